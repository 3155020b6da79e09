package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SCRAM mechanisms Kafka stores credentials for (KIP-554), spelled as
// pulumi-kafka's scramMechanism and Kafka's own tools spell them.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Kafka's iteration bounds for SCRAM-SHA-256 and SCRAM-SHA-512
// (ScramMechanism.minIterations/maxIterations): the controller refuses a
// credential outside them with UNACCEPTABLE_CREDENTIAL.
const (
	ScramMinIterations = 4096
	ScramMaxIterations = 16384
)

// ScramID names a credential as pulumi-kafka's resource ID does:
// <username>|<mechanism>.
func ScramID(username, mechanism string) string { return username + "|" + mechanism }

// SCRAM credentials live in the controller's metadata log: the broker that
// takes AlterUserScramCredentials forwards it to the controller, and every
// Broker answers DescribeUserScramCredentials (and checks logins) from its
// own copy of the metadata, applied at its own pace. So, as for topics,
// a write is done only when every broker shows it, and a credential is gone
// only when every broker says so.

// scramMechanism maps scramMechanism to kadm's value (Check admits only these two).
func scramMechanism(m string) kadm.ScramMechanism {
	if m == ScramSHA512 {
		return kadm.ScramSha512
	}
	return kadm.ScramSha256
}

// scramError wraps a Kafka error for one credential (mech "" for a request
// about all of the user's credentials); the password is never part of it.
// The hint says what to change.
func scramError(user, mech, op string, err error, brokerMsg string) error {
	subject := fmt.Sprintf("UserScramCredential %q", ScramID(user, mech))
	if mech == "" {
		subject = fmt.Sprintf("SCRAM credentials of user %q", user)
	}
	var rest string
	if brokerMsg != "" {
		rest = " (" + brokerMsg + ")"
	}
	return fmt.Errorf("%s: %s: %w%s%s", subject, op, err, rest, HintSuffix(scramHint(err)))
}

func scramHint(err error) string {
	switch {
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return fmt.Sprintf("%s, which lacks the Alter (write) or Describe (read) permission on the cluster that SCRAM "+
			"credentials need: grant it with kafka-acls --bootstrap-server <broker> --add --allow-principal "+
			"User:<saslUsername> --operation Alter --operation Describe --cluster", principalHint)
	case errors.Is(err, kerr.UnacceptableCredential):
		return fmt.Sprintf("Kafka refused the credential: check username (not empty) and scramIterations (%d to %d)",
			ScramMinIterations, ScramMaxIterations)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("use scramMechanism %s or %s", ScramSHA256, ScramSHA512)
	case errors.Is(err, kerr.UnsupportedVersion):
		return "the brokers do not support SCRAM credential requests (Kafka 2.7 or later with KRaft, or ZooKeeper mode): upgrade Kafka"
	}
	return RequestHint(err)
}

// UpsertScram sets the user's credential for mech: iterations and the
// salted password, which kadm derives locally (the password itself is not
// sent). It replaces any earlier password of that mechanism.
func (k *Client) UpsertScram(ctx context.Context, user, mech string, iterations int, password string) error {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	const op = "AlterUserScramCredentials (upsertion)"
	res, err := k.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User: user, Mechanism: scramMechanism(mech), Iterations: int32(iterations), Password: password,
	}})
	if err != nil {
		return scramError(user, mech, op, err, "")
	}
	r, ok := res[user]
	if !ok {
		return fmt.Errorf("UserScramCredential %q: %s answered without this user", ScramID(user, mech), op)
	}
	if r.Err != nil {
		return scramError(user, mech, op, r.Err, r.ErrMessage)
	}
	return nil
}

// DeleteScram removes the user's credential for mech; one that is already
// gone is not an error.
func (k *Client) DeleteScram(ctx context.Context, user, mech string) error {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	const op = "AlterUserScramCredentials (deletion)"
	res, err := k.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: scramMechanism(mech)}}, nil)
	if err != nil {
		return scramError(user, mech, op, err, "")
	}
	r, ok := res[user]
	if !ok {
		return fmt.Errorf("UserScramCredential %q: %s answered without this user", ScramID(user, mech), op)
	}
	if r.Err != nil && !errors.Is(r.Err, kerr.ResourceNotFound) {
		return scramError(user, mech, op, r.Err, r.ErrMessage)
	}
	return nil
}

// scramView is what one broker describes about a user's credentials:
// iterations by mechanism; empty when the user has none.
type scramView map[string]int

// DescribeScramFrom asks r for the user's credentials.
func (k *Client) DescribeScramFrom(ctx context.Context, r kmsg.Requestor, user string) (scramView, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	const op = "DescribeUserScramCredentials"
	req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
	u.Name = user
	req.Users = append(req.Users, u)
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, scramError(user, "", op, err, "")
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, scramError(user, "", op, err, deref(resp.ErrorMessage))
	}
	view := scramView{}
	for _, res := range resp.Results {
		if res.User != user {
			continue
		}
		err := kerr.ErrorForCode(res.ErrorCode)
		switch {
		case errors.Is(err, kerr.ResourceNotFound):
			return view, nil
		case err != nil:
			return nil, scramError(user, "", op, err, deref(res.ErrorMessage))
		}
		for _, c := range res.CredentialInfos {
			view[kadm.ScramMechanism(c.Mechanism).String()] = int(c.Iterations)
		}
	}
	return view, nil
}

// scramEveryBroker asks every broker alone for the user's credentials.
// A request that got no answer is an error that is not a Kafka error, so
// the callers' polls ask again.
func (k *Client) scramEveryBroker(ctx context.Context, user string) (map[int32]scramView, error) {
	ids, err := k.BrokerIDs(ctx)
	if err != nil {
		return nil, err
	}
	views := make(map[int32]scramView, len(ids))
	for _, id := range ids {
		v, err := k.DescribeScramFrom(ctx, k.Broker(id), user)
		if err != nil {
			return nil, fmt.Errorf("broker %d: %w", id, err)
		}
		views[id] = v
	}
	return views, nil
}

// waitScramEvery polls every broker until each view satisfies done.
func (k *Client) waitScramEvery(ctx context.Context, user, mech, what string, done func(scramView) bool) error {
	var lag string
	err := Poll(ctx, k.timeout, fmt.Sprintf("UserScramCredential %q: waiting until every broker shows %s", ScramID(user, mech), what),
		func(ctx context.Context) (bool, error) {
			views, err := k.scramEveryBroker(ctx, user)
			if err != nil {
				if isKafkaError(err) {
					return false, err
				}
				lag = err.Error()
				return false, nil
			}
			for _, id := range sortedIDs(views) {
				if !done(views[id]) {
					lag = fmt.Sprintf("broker %d shows %v", id, map[string]int(views[id]))
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil && lag != "" && !isKafkaError(err) {
		return fmt.Errorf("%w; last, %s", err, lag)
	}
	return err
}

func sortedIDs[T any](m map[int32]T) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// WaitScram waits until every broker describes the credential with iterations.
func (k *Client) WaitScram(ctx context.Context, user, mech string, iterations int) error {
	return k.waitScramEvery(ctx, user, mech, fmt.Sprintf("%s with %d iterations", mech, iterations),
		func(v scramView) bool { n, ok := v[mech]; return ok && n == iterations })
}

// WaitScramGone waits until no broker describes the credential.
func (k *Client) WaitScramGone(ctx context.Context, user, mech string) error {
	return k.waitScramEvery(ctx, user, mech, "it deleted",
		func(v scramView) bool { _, ok := v[mech]; return !ok })
}

// LookupScram returns the credential's iterations from the first broker, in
// ID order, that describes it. found is false only when every broker agreed
// it is missing goneChecks times in a row (a broker that has not applied a
// create yet describes no credential either, see lookup).
func (k *Client) LookupScram(ctx context.Context, user, mech string) (iterations int, found bool, err error) {
	err = confirmGone(ctx, fmt.Sprintf("UserScramCredential %q", ScramID(user, mech)), func(ctx context.Context, _ bool) (bool, error) {
		views, err := k.scramEveryBroker(ctx, user)
		if err != nil {
			return false, err
		}
		for _, id := range sortedIDs(views) {
			if iterations, found = views[id][mech]; found {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return 0, false, err
	}
	return iterations, found, nil
}
