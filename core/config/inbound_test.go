package config

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/server/tlstest"
)

// edgeFiles writes a CA, a server certificate and key, and a file that is
// not PEM, and returns the environment that names them.
func edgeFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Test CA")
	cert, key := ca.Server(t).WriteFiles(t, dir, "server")
	other, _ := tlstest.NewCA(t, "Other").Server(t).WriteFiles(t, dir, "other")
	notPEM := filepath.Join(dir, "not.pem")
	writeFile(t, notPEM, "hello\n")
	return map[string]string{
		"CA": ca.WriteCA(t, dir, "ca.pem"), "CERT": cert, "KEY": key, "OTHER_CERT": other,
		"NOT_PEM": notPEM, "MISSING": filepath.Join(dir, "missing.pem"),
	}
}

const edgeTLS = `apiVersion: junction/v1
kind: Settings
spec:
  tls: {cert: "${CERT}", key: "${KEY}"}
---
`

func connWithInbound(inbound string) string {
	return `apiVersion: junction/v1
kind: Connection
metadata: {name: sf}
spec:
  connector: webhook
  inbound:
` + inbound
}

// TestInboundDecode covers spec.inbound and the Settings keys it relies on:
// what loads, and the file:line:col of every mistake.
func TestInboundDecode(t *testing.T) {
	env := edgeFiles(t)
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name, src string
		want      []string // error lines, as "line:col: message" fragments
		check     func(t *testing.T, b *Bundle)
	}{
		{
			name: "full block",
			src: edgeTLS + connWithInbound(`    allow_ips: [203.0.113.0/24, 198.51.100.7, "2001:db8::/32", "::ffff:10.0.0.0/104"]
    client_ca: "${CA}"
    rate_limit: {per_second: 0.5}
`),
			check: func(t *testing.T, b *Bundle) {
				in := b.Connection("sf").Inbound
				want := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.7/32"),
					netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
				if !reflect.DeepEqual(in.AllowIPs, want) {
					t.Errorf("allow_ips = %v, want %v", in.AllowIPs, want)
				}
				if in.ClientCAs == nil || in.ClientCA != env["CA"] {
					t.Errorf("client_ca = %q, pool %v", in.ClientCA, in.ClientCAs)
				}
				if *in.RateLimit != (RateLimit{PerSecond: 0.5, Burst: 1}) {
					t.Errorf("rate_limit = %+v, want 0.5/s burst 1", *in.RateLimit)
				}
				if s := b.Settings; s.TLS == nil || s.TLS.Cert != env["CERT"] || s.TLS.Key != env["KEY"] {
					t.Errorf("settings tls = %+v", s.TLS)
				}
			},
		},
		{
			name: "rate limit burst and trusted proxies",
			src: `apiVersion: junction/v1
kind: Settings
spec:
  trusted_proxies: [10.0.0.0/8, 127.0.0.1]
---
` + connWithInbound(`    rate_limit: {per_second: 50, burst: 200}
`),
			check: func(t *testing.T, b *Bundle) {
				if got := b.Connection("sf").Inbound.RateLimit; *got != (RateLimit{PerSecond: 50, Burst: 200}) {
					t.Errorf("rate_limit = %+v", *got)
				}
				want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
				if !reflect.DeepEqual(b.Settings.TrustedProxies, want) {
					t.Errorf("trusted_proxies = %v, want %v", b.Settings.TrustedProxies, want)
				}
			},
		},
		{
			name: "bad addresses",
			src: connWithInbound(`    allow_ips: [10.1.2.3/8, not-an-ip, 300.1.1.1, "fe80::1%eth0", 10.0.0.0/33]
`),
			want: []string{
				`7:17: spec.inbound.allow_ips[0]: "10.1.2.3/8" has bits set after the /8 prefix; did you mean 10.0.0.0/8?`,
				`7:29: spec.inbound.allow_ips[1]: want an IP address or a CIDR such as 203.0.113.0/24, got "not-an-ip"`,
				`7:40: spec.inbound.allow_ips[2]: want an IP address or a CIDR`,
				`7:51: spec.inbound.allow_ips[3]: want an IP address or a CIDR`,
				`7:67: spec.inbound.allow_ips[4]: want an IP address or a CIDR`,
			},
		},
		{
			name: "empty allow list",
			src:  connWithInbound("    allow_ips: []\n"),
			want: []string{"7:16: spec.inbound.allow_ips: an empty list would refuse every sender"},
		},
		{
			name: "client_ca without TLS",
			src:  connWithInbound("    client_ca: \"${CA}\"\n"),
			want: []string{"7:5: spec.inbound.client_ca: needs Settings tls (cert and key)"},
		},
		{
			name: "client_ca missing file",
			src:  edgeTLS + connWithInbound("    client_ca: \"${MISSING}\"\n"),
			want: []string{"12:16: spec.inbound.client_ca: read " + env["MISSING"] + ": open: no such file or directory"},
		},
		{
			name: "client_ca not PEM",
			src:  edgeTLS + connWithInbound("    client_ca: \"${NOT_PEM}\"\n"),
			want: []string{"12:16: spec.inbound.client_ca: " + env["NOT_PEM"] + " holds no PEM certificate"},
		},
		{
			name: "bad rate limits",
			src: connWithInbound(`    rate_limit: {burst: 5}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf2}
spec:
  connector: webhook
  inbound: {rate_limit: {per_second: fast, burst: 0}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf3}
spec:
  connector: webhook
  inbound: {rate_limit: {per_second: -1}, allow_ip: [1.2.3.4]}
`),
			want: []string{
				`7:17: spec.inbound.rate_limit: missing required key "per_second"`,
				`14:38: spec.inbound.rate_limit.per_second: want a number of requests per second such as 50 or 0.5, got string`,
				`21:38: spec.inbound.rate_limit.per_second: want a positive number of requests per second (at most 1e9), got -1`,
				`21:43: spec.inbound: unknown key "allow_ip" (did you mean "allow_ips"?)`,
			},
		},
		{
			name: "bad tls settings",
			src: `apiVersion: junction/v1
kind: Settings
spec:
  tls: {cert: "${CERT}", key: "${MISSING}"}
  trusted_proxies: [10.0.0.0/33]
`,
			want: []string{
				"4:31: spec.tls.key: read " + env["MISSING"] + ": open: no such file or directory",
				"5:21: spec.trusted_proxies[0]: want an IP address or a CIDR",
			},
		},
		{
			name: "tls key of another certificate",
			src: `apiVersion: junction/v1
kind: Settings
spec:
  tls: {cert: "${OTHER_CERT}", key: "${KEY}"}
`,
			want: []string{"4:8: spec.tls: cert " + env["OTHER_CERT"] + " and key " + env["KEY"] + ": tls: private key does not match public key"},
		},
		{
			name: "tls needs both",
			src: `apiVersion: junction/v1
kind: Settings
spec:
  tls: {cert: "${CERT}"}
`,
			want: []string{`4:8: spec.tls: missing required key "key"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, file, tt.src)
			b, err := Load([]string{file}, Options{LookupEnv: look})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(FormatErrors(err))
				}
				tt.check(t, b)
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

// TestInboundValidateWithoutEnv checks that `junction validate`, which
// keeps unset ${VAR}s, does not try to read files they name.
func TestInboundValidateWithoutEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, edgeTLS+connWithInbound("    client_ca: \"${CA}\"\n"))
	if _, err := Load([]string{file}, Options{LookupEnv: func(string) (string, bool) { return "", false }, KeepUnset: true}); err != nil {
		t.Fatal(FormatErrors(err))
	}
}
