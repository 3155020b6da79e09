package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// UserScramCredentialToken is the Pulumi type token of the UserScramCredential resource.
const UserScramCredentialToken = "umbrellakafka:index:UserScramCredential"

// The SCRAM mechanisms and Kafka's iteration bounds (kafkaadmin), under the
// names this package has always exported.
const (
	ScramSHA256            = kafkaadmin.ScramSHA256
	ScramSHA512            = kafkaadmin.ScramSHA512
	ScramMinIterations     = kafkaadmin.ScramMinIterations
	ScramMaxIterations     = kafkaadmin.ScramMaxIterations
	ScramDefaultIterations = ScramMinIterations
)

// UserScramCredential is the controller of umbrellakafka:index:UserScramCredential,
// one SASL/SCRAM credential (a user's password for one mechanism).
//
// It mirrors pulumi-kafka's kafka.UserScramCredential property by property, so a
// program migrates by renaming the package. The ID is "<username>|<scramMechanism>",
// as pulumi-kafka's; a new username or mechanism is another credential and
// replaces it, while new iterations or a new password are set in place
// (AlterUserScramCredentials upserts). Kafka stores only a salted hash, so the
// password is never read back: Read keeps what the state recorded.
type UserScramCredential struct{}

// UserScramCredentialArgs are the inputs of a UserScramCredential.
type UserScramCredentialArgs struct {
	// Username is the Kafka user (principal User:<username>).
	Username string `pulumi:"username"`
	// ScramMechanism is SCRAM-SHA-256 or SCRAM-SHA-512.
	ScramMechanism string `pulumi:"scramMechanism"`
	// ScramIterations is the PBKDF2 iteration count, 4096 to 16384.
	ScramIterations *int `pulumi:"scramIterations,optional"`
	// Password is the password, recorded (as a secret) in the state.
	Password *string `pulumi:"password,optional" provider:"secret"`
	// PasswordWo is the write-only password: an input only, never an output.
	PasswordWo *string `pulumi:"passwordWo,optional" provider:"secret"`
	// PasswordWoVersion is changed to set a new passwordWo (or, with
	// generatePassword, to generate a new password).
	PasswordWoVersion *string `pulumi:"passwordWoVersion,optional"`
	// GeneratePassword makes the provider generate the password (not in
	// pulumi-kafka).
	GeneratePassword *bool `pulumi:"generatePassword,optional"`
}

// UserScramCredentialState is the recorded state: the inputs without
// passwordWo, which is written to Kafka and never recorded. With
// generatePassword, Password is the generated password.
type UserScramCredentialState struct {
	Username          string  `pulumi:"username"`
	ScramMechanism    string  `pulumi:"scramMechanism"`
	ScramIterations   int     `pulumi:"scramIterations"`
	Password          *string `pulumi:"password,optional" provider:"secret"`
	PasswordWoVersion *string `pulumi:"passwordWoVersion,optional"`
	GeneratePassword  *bool   `pulumi:"generatePassword,optional"`
}

// generatedPasswordBytes is the entropy of a generated password: 256 bits,
// written as 43 base64url characters (no padding), which need no quoting in
// a JAAS line, a properties file or a shell.
const generatedPasswordBytes = 32

// Compile-time checks that UserScramCredential implements every lifecycle step it claims.
var (
	_ infer.CustomResource[UserScramCredentialArgs, UserScramCredentialState]       = UserScramCredential{}
	_ infer.CustomCheck[UserScramCredentialArgs]                                    = UserScramCredential{}
	_ infer.CustomDiff[UserScramCredentialArgs, UserScramCredentialState]           = UserScramCredential{}
	_ infer.CustomRead[UserScramCredentialArgs, UserScramCredentialState]           = UserScramCredential{}
	_ infer.CustomUpdate[UserScramCredentialArgs, UserScramCredentialState]         = UserScramCredential{}
	_ infer.CustomDelete[UserScramCredentialState]                                  = UserScramCredential{}
	_ infer.ExplicitDependencies[UserScramCredentialArgs, UserScramCredentialState] = UserScramCredential{}
	_ infer.Annotated                                                               = (*UserScramCredential)(nil)
	_ infer.Annotated                                                               = (*UserScramCredentialArgs)(nil)
	_ infer.Annotated                                                               = (*UserScramCredentialState)(nil)
)

// Annotate sets the type token and documents the resource.
func (c *UserScramCredential) Annotate(a infer.Annotator) {
	a.SetToken("index", "UserScramCredential")
	a.Describe(c, "A SASL/SCRAM credential of a Kafka user: the password a client logs in with over SCRAM-SHA-256 "+
		"or SCRAM-SHA-512, as pulumi-kafka's kafka.UserScramCredential (same properties). The ID is "+
		"`<username>|<scramMechanism>`: import an existing credential with "+
		"`pulumi import umbrellakafka:index:UserScramCredential <resource name> 'alice|SCRAM-SHA-512'`, then set its "+
		"password or passwordWo in the program (Kafka keeps only a salted hash, so the password cannot be imported). "+
		"With generatePassword (not in pulumi-kafka) the provider makes the password and returns it as the secret output password. "+
		"A new username or mechanism replaces the credential; new iterations or a new password are set in place, "+
		"after which the old password no longer logs in.")
}

// Annotate documents the inputs for the schema.
func (c *UserScramCredentialArgs) Annotate(a infer.Annotator) {
	a.Describe(&c.Username, "The Kafka user name: clients log in as it, and ACLs name it as User:<username>. "+
		"Changing it replaces the credential.")
	a.Describe(&c.ScramMechanism, "The SCRAM mechanism of the credential: SCRAM-SHA-256 or SCRAM-SHA-512 (the "+
		"client's sasl.mechanism must match). A user can have one credential per mechanism. Changing it replaces the credential.")
	a.Describe(&c.ScramIterations, fmt.Sprintf("PBKDF2 iterations Kafka uses for the salted password: %d to %d "+
		"(Kafka's limits). Changing it sets the password again in place.", ScramMinIterations, ScramMaxIterations))
	a.SetDefault(&c.ScramIterations, ScramDefaultIterations)
	a.Describe(&c.Password, "The password. Stored in the state as a secret. Set exactly one of password, "+
		"passwordWo and generatePassword. Changing it sets the new password in place; the old one stops working.")
	a.Describe(&c.PasswordWo, "Write-only password: sent to Kafka but never recorded in the resource's outputs. "+
		"Set exactly one of password, passwordWo and generatePassword. A change is applied only when "+
		"passwordWoVersion changes too.")
	a.Describe(&c.PasswordWoVersion, "Any string that identifies the passwordWo value (e.g. \"1\", \"2\", a date). "+
		"Changing it writes passwordWo to Kafka again: change it whenever passwordWo changes. With generatePassword, "+
		"changing it generates a new password (rotation).")
	a.Describe(&c.GeneratePassword, fmt.Sprintf("When true, the provider generates the password at create (%d random "+
		"bytes, base64url) and returns it as the secret output password; it is kept until passwordWoVersion changes, "+
		"which generates a new one in place. Set exactly one of password, passwordWo and generatePassword. Not in "+
		"pulumi-kafka.", generatedPasswordBytes))
}

// Annotate documents the outputs for the schema.
func (c *UserScramCredentialState) Annotate(a infer.Annotator) {
	a.Describe(&c.Username, "The Kafka user name.")
	a.Describe(&c.ScramMechanism, "The SCRAM mechanism: SCRAM-SHA-256 or SCRAM-SHA-512.")
	a.Describe(&c.ScramIterations, "The iterations Kafka reports for the credential.")
	a.Describe(&c.Password, "The password, when set through password or generated (generatePassword); a secret, "+
		"never read from Kafka.")
	a.Describe(&c.PasswordWoVersion, "The passwordWoVersion the write-only or generated password was last written with.")
	a.Describe(&c.GeneratePassword, "Whether the provider generated the password.")
}

// WireDependencies keeps infer's default flows (an output is secret when
// the input of its name is; every output is unknown in a preview when any
// input changed) and adds one: password is always secret, since a generated
// password mirrors no secret input, from which infer would derive it.
func (UserScramCredential) WireDependencies(f infer.FieldSelector, args *UserScramCredentialArgs,
	state *UserScramCredentialState,
) {
	inputs := []any{&args.Username, &args.ScramMechanism, &args.ScramIterations, &args.Password, &args.PasswordWo,
		&args.PasswordWoVersion, &args.GeneratePassword}
	computed := make([]infer.InputField, len(inputs))
	for i, in := range inputs {
		computed[i] = f.InputField(in).Computed()
	}
	outputs := map[any]any{&state.Username: &args.Username, &state.ScramMechanism: &args.ScramMechanism,
		&state.ScramIterations: &args.ScramIterations, &state.Password: &args.Password,
		&state.PasswordWoVersion: &args.PasswordWoVersion, &state.GeneratePassword: &args.GeneratePassword}
	for out, in := range outputs {
		f.OutputField(out).DependsOn(append(computed, f.InputField(in).Secret())...)
	}
	f.OutputField(&state.Password).AlwaysSecret()
}

// parseScramID splits an ID or import ID at its last "|": the mechanism has
// none, a user name may. pulumi-kafka also accepts a legacy
// "<username>|<mechanism>|<password>"; it is refused here, since the ID is
// recorded in the state in clear (and the import command line in the
// shell's history). The refusal never repeats the ID, which would show it.
func parseScramID(id string) (username, mechanism string, err error) {
	i := strings.LastIndex(id, "|")
	if i > 0 && validateScramMechanism(id[i+1:]) == "" {
		return id[:i], id[i+1:], nil
	}
	if i > 0 {
		before := id[:i]
		if j := strings.LastIndex(before, "|"); j > 0 && validateScramMechanism(before[j+1:]) == "" {
			return "", "", fmt.Errorf("UserScramCredential ID has a third |-separated part after the mechanism: the legacy "+
				"<username>|<scramMechanism>|<password> import ID is refused, because the ID is stored in the state in clear. "+
				"Import with <username>|<scramMechanism> (e.g. '%s|%s') and set password or passwordWo in the program",
				before[:j], before[j+1:])
		}
	}
	return "", "", fmt.Errorf("UserScramCredential ID %q is not <username>|<scramMechanism> with mechanism %s or %s: "+
		"import with e.g. 'alice|SCRAM-SHA-512'", id, ScramSHA256, ScramSHA512)
}

// Diff compares the state with the new inputs field by field. A new
// username or mechanism is a different credential: replace. New iterations,
// a changed password, a changed passwordWoVersion or a change of
// generatePassword update in place. passwordWo itself is not in the state,
// so it is never compared, and neither is a generated password (the inputs
// have none).
func (UserScramCredential) Diff(_ context.Context, req infer.DiffRequest[UserScramCredentialArgs, UserScramCredentialState]) (
	infer.DiffResponse, error,
) {
	return diffScram(req.State, req.Inputs), nil
}

// diffScram is the pure core of Diff. Empty strings and a nil iterations
// in news are values unknown during a preview (Check refuses them known).
func diffScram(olds UserScramCredentialState, news UserScramCredentialArgs) p.DiffResponse {
	d := map[string]p.PropertyDiff{}
	if news.Username != olds.Username {
		d["username"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	if news.ScramMechanism != olds.ScramMechanism {
		d["scramMechanism"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	if news.ScramIterations == nil || *news.ScramIterations != olds.ScramIterations {
		d["scramIterations"] = p.PropertyDiff{Kind: p.Update}
	}
	if deref(olds.GeneratePassword) != deref(news.GeneratePassword) {
		d["generatePassword"] = p.PropertyDiff{Kind: p.Update}
	}
	if k, changed := optionalDiff(olds.Password, news.Password); changed && !deref(news.GeneratePassword) {
		d["password"] = p.PropertyDiff{Kind: k}
	}
	if k, changed := optionalDiff(olds.PasswordWoVersion, news.PasswordWoVersion); changed {
		d["passwordWoVersion"] = p.PropertyDiff{Kind: k}
	}
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// optionalDiff is the kind of change between two optional values.
func optionalDiff(old, new *string) (p.DiffKind, bool) {
	switch {
	case old == nil && new == nil:
		return p.Update, false
	case old == nil:
		return p.Add, true
	case new == nil:
		return p.Delete, true
	case *old != *new:
		return p.Update, true
	}
	return p.Update, false
}

// stateOf is the state recorded for inputs: everything but passwordWo.
// A generated password is added by the caller.
func stateOf(in UserScramCredentialArgs) UserScramCredentialState {
	return UserScramCredentialState{
		Username:          in.Username,
		ScramMechanism:    in.ScramMechanism,
		ScramIterations:   deref(in.ScramIterations),
		Password:          in.Password,
		PasswordWoVersion: in.PasswordWoVersion,
		GeneratePassword:  in.GeneratePassword,
	}
}

// password is the password to write: password, else passwordWo.
func (in UserScramCredentialArgs) password() string {
	if in.Password != nil {
		return *in.Password
	}
	return deref(in.PasswordWo)
}

// newPassword generates a password: generatedPasswordBytes from the
// system's cryptographic random source, base64url without padding.
func newPassword() (string, error) {
	b := make([]byte, generatedPasswordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// regenerates says whether an update from olds to in generates a new
// password: when generatePassword is newly on, when the state has no
// generated password, or when passwordWoVersion changed (the rotation).
// Any other change (e.g. iterations) writes the generated password again.
func regenerates(olds UserScramCredentialState, in UserScramCredentialArgs) bool {
	if !deref(in.GeneratePassword) {
		return false
	}
	_, versionChanged := optionalDiff(olds.PasswordWoVersion, in.PasswordWoVersion)
	return !deref(olds.GeneratePassword) || olds.Password == nil || versionChanged
}

// Create writes the credential (an upsertion) and returns once every broker
// describes it with its iterations. A preview contacts no broker.
func (UserScramCredential) Create(ctx context.Context, req infer.CreateRequest[UserScramCredentialArgs]) (
	infer.CreateResponse[UserScramCredentialState], error,
) {
	in := req.Inputs
	resp := infer.CreateResponse[UserScramCredentialState]{ID: kafkaadmin.ScramID(in.Username, in.ScramMechanism), Output: stateOf(in)}
	if req.DryRun {
		if deref(in.GeneratePassword) {
			resp.Output.Password = new(string) // unknown until generated
		}
		return resp, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.CreateResponse[UserScramCredentialState]{}, err
	}
	if deref(in.GeneratePassword) {
		pw, err := newPassword()
		if err != nil {
			return infer.CreateResponse[UserScramCredentialState]{}, err
		}
		in.Password, resp.Output.Password = &pw, &pw
	}
	// As pulumi-kafka, an existing credential is taken over (an upsertion
	// cannot be told to fail), but the operator hears that its password changed.
	before, err := cl.DescribeScramFrom(ctx, cl.AnyBroker(), in.Username)
	if err != nil {
		return infer.CreateResponse[UserScramCredentialState]{}, err
	}
	if err := cl.UpsertScram(ctx, in.Username, in.ScramMechanism, deref(in.ScramIterations), in.password()); err != nil {
		return infer.CreateResponse[UserScramCredentialState]{}, err
	}
	if _, existed := before[in.ScramMechanism]; existed {
		p.GetLogger(ctx).Warningf("UserScramCredential %q already existed in Kafka: its password is now this "+
			"program's, and clients still using the previous one can no longer log in", resp.ID)
	}
	if err := cl.WaitScram(ctx, in.Username, in.ScramMechanism, deref(in.ScramIterations)); err != nil {
		// Kafka accepted it: record it, so the next update resumes from it.
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, nil
}

// Read refreshes mechanism and iterations from Kafka. The password (and
// passwordWoVersion) cannot be read from Kafka and keep the state's values.
// A credential that every broker reports missing returns an empty ID, which
// tells Pulumi it is gone. Read by ID is also how import works.
func (UserScramCredential) Read(ctx context.Context, req infer.ReadRequest[UserScramCredentialArgs, UserScramCredentialState]) (
	infer.ReadResponse[UserScramCredentialArgs, UserScramCredentialState], error,
) {
	user, mech, err := parseScramID(req.ID)
	if err != nil {
		return infer.ReadResponse[UserScramCredentialArgs, UserScramCredentialState]{}, err
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[UserScramCredentialArgs, UserScramCredentialState]{}, err
	}
	iterations, found, err := cl.LookupScram(ctx, user, mech)
	if err != nil || !found {
		return infer.ReadResponse[UserScramCredentialArgs, UserScramCredentialState]{}, err
	}
	state := UserScramCredentialState{
		Username:          user,
		ScramMechanism:    mech,
		ScramIterations:   iterations,
		Password:          req.State.Password,
		PasswordWoVersion: req.State.PasswordWoVersion,
		GeneratePassword:  req.State.GeneratePassword,
	}
	inputs := UserScramCredentialArgs{
		Username:          user,
		ScramMechanism:    mech,
		ScramIterations:   &iterations,
		Password:          req.State.Password,
		PasswordWo:        req.Inputs.PasswordWo,
		PasswordWoVersion: req.State.PasswordWoVersion,
		GeneratePassword:  req.State.GeneratePassword,
	}
	if deref(state.GeneratePassword) {
		inputs.Password = nil // the program never sets a generated password
	}
	return infer.ReadResponse[UserScramCredentialArgs, UserScramCredentialState]{
		ID: req.ID, Inputs: inputs, State: state,
	}, nil
}

// Update writes the credential again with the new iterations and password
// (an upsertion replaces the stored salted password, so the old password
// stops working) and returns once every broker describes the new iterations.
// Kafka does not describe passwords, so a change of the password alone
// cannot be waited for: each broker applies it when it applies the
// controller's record, normally within milliseconds.
func (UserScramCredential) Update(ctx context.Context, req infer.UpdateRequest[UserScramCredentialArgs, UserScramCredentialState]) (
	infer.UpdateResponse[UserScramCredentialState], error,
) {
	in := req.Inputs
	out := stateOf(in)
	if deref(in.GeneratePassword) {
		// Kept unless regenerated below: a preview shows it unknown only
		// when some input changed (infer's default dependencies).
		out.Password = req.State.Password
	}
	if req.DryRun {
		return infer.UpdateResponse[UserScramCredentialState]{Output: out}, nil
	}
	if regenerates(req.State, in) {
		pw, err := newPassword()
		if err != nil {
			return infer.UpdateResponse[UserScramCredentialState]{}, err
		}
		out.Password = &pw
	}
	if deref(in.GeneratePassword) {
		in.Password = out.Password
	}
	if in.Password == nil && in.PasswordWo == nil {
		return infer.UpdateResponse[UserScramCredentialState]{}, fmt.Errorf("UserScramCredential %q: no password to "+
			"write: set password or passwordWo, or generatePassword: true", kafkaadmin.ScramID(in.Username, in.ScramMechanism))
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.UpdateResponse[UserScramCredentialState]{}, err
	}
	if err := cl.UpsertScram(ctx, in.Username, in.ScramMechanism, deref(in.ScramIterations), in.password()); err != nil {
		return infer.UpdateResponse[UserScramCredentialState]{}, err
	}
	if err := cl.WaitScram(ctx, in.Username, in.ScramMechanism, deref(in.ScramIterations)); err != nil {
		return infer.UpdateResponse[UserScramCredentialState]{Output: out},
			infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.UpdateResponse[UserScramCredentialState]{Output: out}, nil
}

// Delete removes the credential (a deletion) and waits until no broker
// describes it. A credential that is already gone counts as deleted.
func (UserScramCredential) Delete(ctx context.Context, req infer.DeleteRequest[UserScramCredentialState]) (
	infer.DeleteResponse, error,
) {
	user, mech := req.State.Username, req.State.ScramMechanism
	if user == "" || mech == "" {
		var err error
		if user, mech, err = parseScramID(req.ID); err != nil {
			return infer.DeleteResponse{}, err
		}
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := cl.DeleteScram(ctx, user, mech); err != nil {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, cl.WaitScramGone(ctx, user, mech)
}
