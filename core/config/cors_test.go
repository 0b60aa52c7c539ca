package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func connWithCORS(connector, auth, cors string) string {
	s := "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: web}\nspec:\n  connector: " + connector + "\n"
	if auth != "" {
		s += "  auth: " + auth + "\n"
	}
	return s + "  cors:\n" + cors
}

// TestCORSDecode covers spec.cors: what loads (normalised as browsers send
// origins), and the file:line:col of every mistake.
func TestCORSDecode(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // error lines, as "line:col: message" fragments
		check     func(t *testing.T, c *CORS)
	}{
		{
			name: "origins normalised, default max_age",
			src: connWithCORS("webhook", "{type: none}", `    origins: [HTTPS://Shop.Example.com, "https://shop.example.com:443", "http://localhost:3000", "http://[::1]:8080", "http://127.0.0.1:80"]
`),
			check: func(t *testing.T, c *CORS) {
				want := []string{"https://shop.example.com", "https://shop.example.com", "http://localhost:3000", "http://[::1]:8080", "http://127.0.0.1"}
				if !reflect.DeepEqual(c.Origins, want) || c.Any || c.MaxAge != 2*time.Hour {
					t.Errorf("got %+v; want origins %q, max_age 2h", c, want)
				}
				for o, ok := range map[string]bool{
					"https://shop.example.com": true, "https://SHOP.example.com": true, "http://shop.example.com": false,
					"https://shop.example.com.evil.test": false, "null": false, "": false, "http://localhost:3001": false,
				} {
					if c.Allows(o) != ok {
						t.Errorf("Allows(%q) = %v, want %v", o, !ok, ok)
					}
				}
			},
		},
		{
			name: "star and max_age",
			src:  connWithCORS("webhook", "{type: none}", "    origins: [\"*\"]\n    max_age: 10m\n"),
			check: func(t *testing.T, c *CORS) {
				if !c.Any || c.MaxAge != 10*time.Minute || !c.Allows("https://any.example") || c.Allows("") {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "bad origins",
			src: connWithCORS("webhook", "{type: none}", `    origins: [shop.example.com, "https://shop.example.com/", "https://a.test/x?y", "ftp://a.test", "https://*.a.test", "https://u:p@a.test"]
`),
			want: []string{
				`8:15: spec.cors.origins[0]: want an origin scheme://host[:port] such as https://shop.example.com, got "shop.example.com"`,
				`8:33: spec.cors.origins[1]: "https://shop.example.com/": an origin has no path, query or fragment; did you mean "https://shop.example.com"?`,
				`8:62: spec.cors.origins[2]: "https://a.test/x?y": an origin has no path`,
				`8:84: spec.cors.origins[3]: "ftp://a.test": want an http or https origin`,
				`8:100: spec.cors.origins[4]: "https://*.a.test": wildcards are not supported`,
				`8:120: spec.cors.origins[5]: "https://u:p@a.test": an origin has no user name or password`,
			},
		},
		{
			name: "empty, missing and bad max_age",
			src: connWithCORS("webhook", "{type: none}", "    origins: []\n") + "---\n" +
				strings.Replace(connWithCORS("webhook", "{type: none}", "    max_age: 2h\n"), "web}", "web2}", 1) + "---\n" +
				strings.Replace(connWithCORS("webhook", "{type: none}", "    origins: [\"*\"]\n    max_age: 48h\n    orgins: []\n"), "web}", "web3}", 1),
			want: []string{
				`8:14: spec.cors.origins: an empty list allows no page`,
				`17:5: spec.cors: missing required key "origins"`,
				`27:14: spec.cors.max_age: want at most 24h: browsers cap it`,
				`28:5: spec.cors: unknown key "orgins" (did you mean "origins"?)`,
			},
		},
		{
			name: "no auth: cors would never apply",
			src:  connWithCORS("webhook", "", "    origins: [https://shop.example.com]\n"),
			want: []string{`7:5: spec.cors: connection web has no auth block, so it receives no pushes`},
		},
		{
			name: "connector that does not receive",
			src:  connWithCORS("sftp", "{type: none}", "    origins: [https://shop.example.com]\n"),
			want: []string{`8:5: spec.cors: connector sftp does not receive pushes`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, file, tt.src)
			b, err := Load([]string{file}, Options{Check: receivingChecker{}})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(FormatErrors(err))
				}
				tt.check(t, b.Connection("web").CORS)
				return
			}
			if err == nil {
				t.Fatalf("loaded; want errors %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i >= len(lines) || !strings.Contains(lines[i], file+":"+w) {
					t.Errorf("error %d: want %q in\n%s", i, w, err)
				}
			}
		})
	}
}
