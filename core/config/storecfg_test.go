package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreSettings(t *testing.T) {
	tests := []struct {
		name string
		spec string // the store block, indented under spec
		want StoreSettings
		err  string
	}{
		{name: "absent", want: DefaultStore()},
		{name: "badger", spec: "  store: {type: badger}\n", want: DefaultStore()},
		{
			name: "jetstream defaults",
			spec: "  store: {type: jetstream, url: 'nats://n1:4222,nats://n2:4222'}\n",
			want: StoreSettings{Type: StoreJetStream, URL: "nats://n1:4222,nats://n2:4222", Replicas: 3, Stream: "JUNCTION"},
		},
		{
			name: "jetstream all keys",
			spec: "  store: {type: jetstream, url: 'tls://n1:4222', replicas: 1, credentials: nats.creds, stream: JN_1, node: eu-1.b}\n",
			want: StoreSettings{Type: StoreJetStream, URL: "tls://n1:4222", Replicas: 1, Credentials: "nats.creds", Stream: "JN_1", Node: "eu-1.b"},
		},
		{name: "unknown type", spec: "  store: {type: redis}\n", err: `spec.store.type: unknown store type "redis"`},
		{name: "jetstream key on badger", spec: "  store: {type: badger, replicas: 3}\n", err: "spec.store.replicas: only for type jetstream"},
		{name: "url required", spec: "  store: {type: jetstream}\n", err: `spec.store: missing required key "url"`},
		{name: "bad url", spec: "  store: {type: jetstream, url: 'http://n1:4222'}\n", err: "spec.store.url: NATS URL"},
		{name: "too many replicas", spec: "  store: {type: jetstream, url: 'nats://a:1', replicas: 7}\n", err: "spec.store.replicas: want 1 to 5"},
		{name: "bad node", spec: "  store: {type: badger, node: 'a b'}\n", err: "spec.store.node: want 1-64 letters"},
		{name: "bad stream", spec: "  store: {type: jetstream, url: 'nats://a:1', stream: a.b}\n", err: "spec.store.stream: want 1-64 letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "settings.yaml")
			src := "apiVersion: junction/v1\nkind: Settings\nspec:\n" + tt.spec + "  workers: 2\n"
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := Load([]string{path}, Options{LookupEnv: lookup})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Settings.Store != tt.want {
				t.Errorf("Store = %+v, want %+v", b.Settings.Store, tt.want)
			}
		})
	}
}

func TestStoreFromFlag(t *testing.T) {
	js := StoreSettings{Type: StoreJetStream, URL: "nats://old:4222", Replicas: 1, Stream: "X"}
	tests := []struct {
		flag string
		base StoreSettings
		want StoreSettings
		err  bool
	}{
		{"badger", js, DefaultStore(), false},
		{"nats://h:4222", DefaultStore(), StoreSettings{Type: StoreJetStream, URL: "nats://h:4222", Replicas: 3, Stream: "JUNCTION"}, false},
		{"nats://h:4222", js, StoreSettings{Type: StoreJetStream, URL: "nats://h:4222", Replicas: 1, Stream: "X"}, false},
		{"redis://h", js, js, true},
	}
	for _, tt := range tests {
		got, err := StoreFromFlag(tt.flag, tt.base)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("StoreFromFlag(%q) = %+v, %v; want %+v", tt.flag, got, err, tt.want)
		}
	}
}
