package provider

// SASL settings: saslMechanism, saslUsername, saslPassword, saslTokenUrl and
// saslOauthScopes, with pulumi-kafka's spellings and rules. As there, SASL is
// on when saslUsername or saslPassword is set; saslMechanism defaults to
// plain and alone turns nothing on.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms of saslMechanism, spelt as pulumi-kafka spells them.
const (
	MechPlain       = "plain"
	MechScramSHA256 = "scram-sha256"
	MechScramSHA512 = "scram-sha512"
	MechOAuthBearer = "oauthbearer"
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

// saslMechanism is the franz-go mechanism for a validated configuration, nil
// without SASL. httpTimeout bounds each token request of oauthbearer.
func (c *Config) saslMechanism(httpTimeout time.Duration) sasl.Mechanism {
	if !c.saslOn() {
		return nil
	}
	user, pass := deref(c.SASLUsername), deref(c.SASLPassword)
	switch deref(c.SASLMechanism) {
	case MechScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case MechScramSHA512:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	case MechOAuthBearer:
		ts := &tokenSource{url: deref(c.SASLTokenURL), clientID: user, secret: pass, scopes: c.SASLOAuthScopes,
			http: &http.Client{Timeout: httpTimeout}}
		return oauth.Oauth(ts.auth)
	default:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	}
}

// tokenSource fetches OAuth tokens with the client-credentials grant (RFC
// 6749 section 4.4), as pulumi-kafka's oauthbearer does, and reuses a token
// until shortly before it expires: every new broker connection
// authenticates, and the identity provider should not see one request each.
type tokenSource struct {
	url, clientID, secret string
	scopes                []string
	http                  *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenMargin is how long before its expiry a token is no longer handed out,
// so it does not expire during the SASL exchange.
const tokenMargin = 10 * time.Second

func (s *tokenSource) auth(ctx context.Context) (oauth.Auth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Add(tokenMargin).Before(s.expires) {
		return oauth.Auth{Token: s.token}, nil
	}
	token, expires, err := s.fetch(ctx)
	if err != nil {
		return oauth.Auth{}, err
	}
	s.token, s.expires = token, expires
	return oauth.Auth{Token: token}, nil
}

// tokenResponse is the token endpoint's JSON answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (s *tokenSource) fetch(ctx context.Context) (string, time.Time, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.scopes) > 0 {
		form.Set("scope", strings.Join(s.scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("umbrellakafka:saslTokenUrl %s: %w", s.url, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 section 2.3.1: the client id and secret form-encoded, then Basic.
	req.SetBasicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.secret))
	start := time.Now()
	resp, err := s.http.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("umbrellakafka: fetching an OAuth token from saslTokenUrl %s: %w: check "+
			"that the URL is right and reachable from where Pulumi runs", s.url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		why := strings.TrimSpace(tr.Error + " " + tr.Description)
		if why == "" {
			why = fmt.Sprintf("%.200s", strings.TrimSpace(string(body)))
		}
		return "", time.Time{}, fmt.Errorf("umbrellakafka: the OAuth token endpoint saslTokenUrl %s answered %s "+
			"without an access token (%s): check saslUsername (the client id) and saslPassword (the client "+
			"secret), and saslOauthScopes", s.url, resp.Status, why)
	}
	expires := start.Add(time.Hour) // no expires_in: assume an hour, refetch then
	if tr.ExpiresIn > 0 {
		expires = start.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	return tr.AccessToken, expires, nil
}
