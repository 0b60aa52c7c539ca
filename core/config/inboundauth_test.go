package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// receivingChecker knows that webhook receives and sftp does not.
type receivingChecker struct{ fakeChecker }

func (receivingChecker) Receives(c string) (bool, bool) {
	switch c {
	case "webhook":
		return true, true
	case "sftp":
		return false, true
	}
	return false, false
}

func TestInboundAuthWarnings(t *testing.T) {
	conn := func(name, connector, auth string) string {
		s := "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: " + name + "}\nspec:\n  connector: " + connector + "\n"
		if auth != "" {
			s += "  auth: " + auth + "\n"
		}
		return s
	}
	flow := func(trigger, uses string) string {
		return "apiVersion: junction/v1\nkind: Workflow\nmetadata: {name: f}\nspec:\n  trigger: {connection: " + trigger +
			"}\n  filter: [{path: $.id, op: exists}]\n  tasks: [{name: t, uses: " + uses + ", with: {body: {}}}]\n"
	}
	tests := []struct {
		name string
		docs []string
		want string // in the warnings; "" for none
	}{
		{"explicit none warns", []string{conn("in", "webhook", "{type: none}")}, "connection in: auth type none: anyone"},
		{"absent auth warns", []string{conn("in", "webhook", "")}, "connection in: no auth, so it does not receive pushes"},
		{"absent auth on a trigger warns", []string{conn("in", "webhook", ""), conn("out", "webhook", "{type: api_key, secret: k}"), flow("in", "out.post")}, "connection in: no auth"},
		{"an outbound target needs no auth", []string{conn("in", "webhook", "{type: api_key, secret: k}"), conn("out", "webhook", ""), flow("in", "out.post")}, ""},
		{"api_key is quiet", []string{conn("in", "webhook", "{type: api_key, secret: k}")}, ""},
		{"oauth2 on a trigger warns", []string{conn("in", "webhook", "{type: oauth2, token_url: 'https://id.example.com/token', client_id: c, client_secret: s, audience: api}"), conn("out", "webhook", ""), flow("in", "out.post")},
			"connection in: auth type oauth2 is for outbound calls"},
		{"oauth2 on an outbound target is quiet", []string{conn("in", "webhook", "{type: api_key, secret: k}"), conn("out", "webhook", "{type: oauth2, token_url: 'https://id.example.com/token', client_id: c, client_secret: s}"), flow("in", "out.post")}, ""},
		{"a connector that does not receive is quiet", []string{conn("files", "sftp", "")}, ""},
		{"unknown roles are quiet", []string{conn("seg", "segment", "{type: none}")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(strings.Join(tc.docs, "---\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := Load([]string{path}, Options{LookupEnv: lookup, Check: receivingChecker{}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range b.Warnings {
				if strings.Contains(w.Msg, "auth") {
					got = append(got, w.Error())
				}
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("warnings %q, want none about auth", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("warnings %q, want one with %q", got, tc.want)
			}
		})
	}
}
