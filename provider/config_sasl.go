package provider

// SASL settings: saslMechanism, saslUsername, saslPassword, saslTokenUrl and
// saslOauthScopes, with pulumi-kafka's spellings and rules. As there, SASL is
// on when saslUsername or saslPassword is set; saslMechanism defaults to
// plain and alone turns nothing on.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// SASL mechanisms of saslMechanism, spelt as pulumi-kafka spells them.
const (
	MechPlain       = kafkaadmin.MechPlain
	MechScramSHA256 = kafkaadmin.MechScramSHA256
	MechScramSHA512 = kafkaadmin.MechScramSHA512
	MechOAuthBearer = kafkaadmin.MechOAuthBearer
	// MechAWSIAM is accepted by pulumi-kafka and refused here: see validateSASL.
	MechAWSIAM = "aws-iam"
)

// supportedMechanisms lists the mechanisms the provider implements, for errors.
var supportedMechanisms = []string{MechPlain, MechScramSHA256, MechScramSHA512, MechOAuthBearer}

// kafkaSpelling maps Kafka's own mechanism names (and this provider's former
// values) to the setting's spelling, so the error can say what to write.
var kafkaSpelling = map[string]string{
	"PLAIN": MechPlain, "SCRAM-SHA-256": MechScramSHA256, "SCRAM-SHA-512": MechScramSHA512,
	"OAUTHBEARER": MechOAuthBearer,
}

// saslOn reports whether SASL is used: pulumi-kafka turns it on when a user
// name or password is given.
func (c *Config) saslOn() bool { return deref(c.SASLUsername) != "" || deref(c.SASLPassword) != "" }

func (c *Config) validateSASL() error {
	mech := deref(c.SASLMechanism)
	if mech == "" {
		mech = MechPlain
	}
	if mech == MechAWSIAM {
		return fmt.Errorf("umbrellakafka:saslMechanism = %q is not supported: AWS MSK IAM authentication needs AWS "+
			"credentials, a region and request signing against AWS endpoints, which this provider does not target; "+
			"use one of %s (MSK also offers SASL/SCRAM and mTLS), or manage that cluster with pulumi-kafka",
			mech, strings.Join(supportedMechanisms, ", "))
	}
	if !slices.Contains(supportedMechanisms, mech) {
		hint := ""
		if s, ok := kafkaSpelling[strings.ToUpper(mech)]; ok {
			hint = fmt.Sprintf(" (Kafka's name %s is written %q here)", strings.ToUpper(mech), s)
		}
		return fmt.Errorf("umbrellakafka:saslMechanism = %q is not supported%s: use one of %s, or unset it",
			mech, hint, strings.Join(supportedMechanisms, ", "))
	}
	user, pass := deref(c.SASLUsername), deref(c.SASLPassword)
	var missing []string
	if user == "" {
		missing = append(missing, "saslUsername")
	}
	if pass == "" {
		missing = append(missing, "saslPassword")
	}
	if (c.saslOn() || mech != MechPlain) && len(missing) > 0 {
		what := "a SASL user name and password"
		if mech == MechOAuthBearer {
			what = "the OAuth client id (saslUsername) and client secret (saslPassword)"
		}
		return fmt.Errorf("umbrellakafka:saslMechanism = %q needs %s, and %s is not set: set it (saslPassword "+
			"with --secret, or $%s / $%s), or unset saslMechanism, saslUsername and saslPassword for no SASL",
			mech, what, strings.Join(missing, " and "), EnvSASLUsername, EnvSASLPassword)
	}
	if mech == MechOAuthBearer {
		return validateTokenURL(deref(c.SASLTokenURL))
	}
	return nil
}

// validateTokenURL checks saslTokenUrl for oauthbearer.
func validateTokenURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("umbrellakafka:saslTokenUrl is not set, and saslMechanism = %q needs it: set it to the "+
			"OAuth 2.0 token endpoint of your identity provider (or $%s), e.g. "+
			"https://login.example.com/oauth2/token", MechOAuthBearer, EnvSASLTokenURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("umbrellakafka:saslTokenUrl = %q is not an http(s) URL: set it to the token endpoint, "+
			"e.g. https://login.example.com/oauth2/token", raw)
	}
	return nil
}

// sasl is the SASL part of the connection for a validated configuration,
// nil without SASL.
func (c *Config) sasl() *kafkaadmin.SASL {
	if !c.saslOn() {
		return nil
	}
	return &kafkaadmin.SASL{Mechanism: deref(c.SASLMechanism), Username: deref(c.SASLUsername),
		Password: deref(c.SASLPassword), TokenURL: deref(c.SASLTokenURL), Scopes: c.SASLOAuthScopes}
}
