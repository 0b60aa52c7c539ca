package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// testToken is a path token as `junction connection key rotate` makes them.
const testToken = "jwk_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"

func TestPathToken(t *testing.T) {
	foreign := strings.Replace(string(fixture(t, "case-closed.xml")), testOrg, "00D5e000000AbCdEAK", 1)
	tests := []struct {
		name   string
		auth   pluginsdk.Auth
		path   string
		body   []byte
		status int
		want   string // in the faultstring
	}{
		{name: "right token", auth: tokenAuth(), path: "/" + testToken, status: 200},
		{name: "right token, trailing slash", auth: tokenAuth(), path: "/" + testToken + "/", status: 200},
		{name: "no token", auth: tokenAuth(), path: "", status: 401, want: "missing path token: the Endpoint URL of the outbound message must be https://<host>/hooks/<connection>/<token>"},
		{name: "wrong token", auth: tokenAuth(), path: "/jwk_guessedguessedguessedguessed", status: 401, want: "wrong path token in the Endpoint URL"},
		{name: "token with a suffix", auth: tokenAuth(), path: "/" + testToken + "x", status: 401, want: "wrong path token"},
		{name: "token prefix", auth: tokenAuth(), path: "/" + testToken[:20], status: 401, want: "wrong path token"},
		{name: "token deeper in the path", auth: tokenAuth(), path: "/x/" + testToken, status: 401, want: "wrong path token"},
		{name: "right token, foreign organization", auth: tokenAuth(), path: "/" + testToken, body: []byte(foreign), status: 401,
			want: "organization 00D5e000000AbCdEAK is not allowed"},
		{name: "auth none, no path", auth: pluginsdk.Auth{Type: pluginsdk.AuthNone}, path: "", status: 200},
		{name: "auth none, a path", auth: pluginsdk.Auth{Type: pluginsdk.AuthNone}, path: "/" + testToken, status: 401,
			want: "this connection takes no path token"},
	}
	for name, newConn := range forms(t) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					c := newConn(t)
					h := plugintest.NewHost(t)
					if err := c.Configure(context.Background(), h.Context(json.RawMessage(testConfig), tc.auth)); err != nil {
						t.Fatal(err)
					}
					body := tc.body
					if body == nil {
						body = fixture(t, "case-closed.xml")
					}
					req := post(body)
					req.Path = tc.path
					res, err := c.(pluginsdk.Receiver).Receive(context.Background(), &req)
					if err != nil {
						t.Fatalf("Receive: %v", err)
					}
					if res.Response.Status != tc.status {
						t.Fatalf("status %d %s, want %d", res.Response.Status, res.Response.Body, tc.status)
					}
					if tc.status == 200 {
						if len(res.Events) != 1 {
							t.Errorf("%d events, want 1", len(res.Events))
						}
						return
					}
					if len(res.Events) != 0 {
						t.Errorf("refused, yet %d events", len(res.Events))
					}
					f := parseFault(t, res.Response.Body)
					if !strings.Contains(f.String, tc.want) {
						t.Errorf("faultstring %q does not say %q", f.String, tc.want)
					}
					if tc.path != "" && strings.Contains(f.String, strings.Trim(tc.path, "/")) {
						t.Errorf("faultstring %q echoes the path sent", f.String)
					}
				})
			}
		})
	}
}

func tokenAuth() pluginsdk.Auth { return pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testToken} }
