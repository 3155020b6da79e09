package kafkaadmin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenSource checks the oauthbearer token fetch against a loopback
// endpoint: the client-credentials grant with Basic client authentication
// and the scopes, one request for several connections, and an error that
// names saslTokenUrl without repeating the secret.
func TestTokenSource(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		rawID, rawSecret, ok := r.BasicAuth()
		// RFC 6749 section 2.3.1: both are form-encoded inside Basic.
		id, _ := url.QueryUnescape(rawID)
		secret, _ := url.QueryUnescape(rawSecret)
		if !ok || id != "client id" || secret != "s3cr&t" || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad client credentials"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok-` + strings.ReplaceAll(r.PostFormValue("scope"), " ", "+") +
			`","token_type":"bearer","expires_in":3600}`))
	}))
	defer srv.Close()

	ts := &tokenSource{url: srv.URL, clientID: "client id", secret: "s3cr&t", scopes: []string{"kafka", "admin"},
		http: srv.Client()}
	for range 3 {
		a, err := ts.auth(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-kafka+admin", a.Token)
	}
	assert.EqualValues(t, 1, calls.Load(), "the token is reused until it nears expiry")

	bad := &tokenSource{url: srv.URL, clientID: "client id", secret: "wrong-secret", http: srv.Client()}
	_, err := bad.auth(context.Background())
	require.EqualError(t, err, "umbrellakafka: the OAuth token endpoint saslTokenUrl "+srv.URL+" answered 401 "+
		"Unauthorized without an access token (invalid_client bad client credentials): check saslUsername (the "+
		"client id) and saslPassword (the client secret), and saslOauthScopes")
	assert.NotContains(t, err.Error(), "wrong-secret")
}
