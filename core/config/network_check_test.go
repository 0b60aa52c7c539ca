package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// netChecker is fakeChecker that also classifies allow_hosts entries (a
// fixed table, the real rules are connector/host's) and says where it
// looked for connectors.
type netChecker struct{ fakeChecker }

func (netChecker) InternalHost(entry string) string {
	switch strings.Split(entry, ":")[0] {
	case "127.0.0.1", "localhost":
		return "loopback"
	case "10.0.0.5":
		return "private"
	}
	return ""
}

func (netChecker) SearchedFor(string) string { return "/data/plugins and /src/plugins" }

func TestAllowHostsNeedAllowPrivate(t *testing.T) {
	tests := []struct {
		name    string
		network string
		want    []string // substrings of the errors, in order; none: loads
	}{
		{"public host", `{allow_hosts: [api.example.com]}`, nil},
		{"loopback with allow_private", `{allow_hosts: ["127.0.0.1:9000"], allow_private: true}`, nil},
		{"loopback without allow_private", `{allow_hosts: [api.example.com, "127.0.0.1:9000"]}`,
			[]string{`:7:44: spec.network.allow_hosts[1]: 127.0.0.1:9000 is a loopback address, and without network.allow_private every call to it is refused at run time; set spec.network.allow_private: true`}},
		{"two internal hosts", `{allow_hosts: [localhost, 10.0.0.5], allow_private: false}`,
			[]string{`:7:27: spec.network.allow_hosts[0]: localhost is a loopback address`, `:7:38: spec.network.allow_hosts[1]: 10.0.0.5 is a private address`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, file, "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: out}\nspec:\n  connector: webhook\n  config: {url: \"http://x\"}\n  network: "+tt.network+"\n")
			_, err := Load([]string{file}, Options{LookupEnv: lookup, Check: netChecker{}})
			got := FormatErrors(err)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want no error, got\n%s", got)
				}
				return
			}
			lines := strings.Split(got, "\n")
			for i, w := range tt.want {
				if i >= len(lines) || !strings.Contains(lines[i], file+w) {
					t.Errorf("error %d: want %q in\n%s", i, w, got)
				}
			}
			// Without a NetworkChecker the entry cannot be judged: no error.
			if _, err := Load([]string{file}, testOpts); err != nil {
				t.Errorf("fakeChecker: %s", FormatErrors(err))
			}
		})
	}
}

func TestUnknownConnectorSaysWhereItLooked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: out}\nspec: {connector: mystery}\n")
	_, err := Load([]string{file}, Options{LookupEnv: lookup, Check: netChecker{}})
	want := file + `:4:19: spec.connector: unknown connector "mystery": not a builtin and no installed plugin has that name; looked in /data/plugins and /src/plugins; install it with ` + "`junction plugin install`" + `, or point Settings plugin_dirs at its source`
	if got := FormatErrors(err); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
