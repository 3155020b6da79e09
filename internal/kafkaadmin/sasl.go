package kafkaadmin

// SASL: the franz-go mechanism for a connection's SASL settings, and the
// OAuth client-credentials token source behind oauthbearer.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms, spelt as pulumi-kafka's saslMechanism spells them.
const (
	MechPlain       = "plain"
	MechScramSHA256 = "scram-sha256"
	MechScramSHA512 = "scram-sha512"
	MechOAuthBearer = "oauthbearer"
)

// SASL are the credentials a connection authenticates with. For
// oauthbearer, Username and Password are the OAuth client id and secret and
// TokenURL the token endpoint; Scopes are requested with each token.
type SASL struct {
	Mechanism          string // one of the Mech constants; "" means plain
	Username, Password string
	TokenURL           string
	Scopes             []string
}

// mechanism is the franz-go mechanism; nil for a nil SASL. httpTimeout
// bounds each token request of oauthbearer.
func (s *SASL) mechanism(httpTimeout time.Duration) sasl.Mechanism {
	if s == nil {
		return nil
	}
	switch s.Mechanism {
	case MechScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	case MechScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	case MechOAuthBearer:
		ts := &tokenSource{url: s.TokenURL, clientID: s.Username, secret: s.Password, scopes: s.Scopes,
			http: &http.Client{Timeout: httpTimeout}}
		return oauth.Oauth(ts.auth)
	default:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
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
