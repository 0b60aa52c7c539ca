package names

import (
	"errors"
	"strings"
	"testing"
)

// registerOnce registers id unless an earlier run of the test (-count=2)
// already did: the table is process-wide, as in the binary.
func registerOnce(t *testing.T, id ID) {
	t.Helper()
	if !Registered(id) {
		Register(id)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		id   ID
		want string // a part of the error; "" for a good ID
	}{
		{"connector.webhook", ""},
		{"connector.example-plugin_2", ""},
		{"task.directory.upsert_contact", ""},
		{"task.a.b.c", ""},
		{"connector", `want connector.<name>`},
		{"connector.a.b", `want connector.<name>, one name without dots`},
		{"task.directory", `want task.<group>.<name>`},
		{"module.webhook", `unknown kind "module"`},
		{"connector.Webhook", `part "Webhook" is not a lowercase name`},
		{"connector.", `part "" is not a lowercase name`},
		{"task.directory..upsert", `part "" is not a lowercase name`},
		{"connector.9lives", `part "9lives" is not a lowercase name`},
		{ID("connector." + strings.Repeat("a", 65)), `is not a lowercase name`},
	}
	for _, tt := range tests {
		err := Check(tt.id)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tt.id, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%q) = %v, want an error with %q", tt.id, err, tt.want)
		}
	}
}

// TestRegisterPanics: a bad or repeated ID is a programming mistake, caught
// when the program starts, and leaves the table as it was.
func TestRegisterPanics(t *testing.T) {
	registerOnce(t, "connector.names-test-dup")
	tests := []struct {
		id   ID
		want string
	}{
		{"connector.names-test-dup", `names.Register("connector.names-test-dup"): already registered`},
		{"connector.Bad", `names.Register: ID "connector.Bad": part "Bad" is not a lowercase name (a letter, then up to 63 letters, digits, _ or -)`},
		{"task.nogroup", "names.Register: ID \"task.nogroup\": want task.<group>.<name>, as `uses:` writes group.name"},
	}
	for _, tt := range tests {
		before := len(All())
		msg := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			Register(tt.id)
			return ""
		}()
		if msg != tt.want {
			t.Errorf("Register(%q) panicked with %q, want %q", tt.id, msg, tt.want)
		}
		if n := len(All()); n != before {
			t.Errorf("Register(%q) changed the table from %d to %d IDs", tt.id, before, n)
		}
	}
}

// TestTaken: a plugin may not take the name of a builtin connector or of a
// group of builtin tasks, and the refusal names the builtin and the fix.
func TestTaken(t *testing.T) {
	registerOnce(t, Connector("names-test-conn"))
	registerOnce(t, Task("names-test-group.one"))
	registerOnce(t, Task("names-test-group.two"))
	tests := []struct {
		name string
		want string // "" when the name is free
	}{
		{"names-test-conn", `plugin name "names-test-conn" is taken by the builtin connector connector.names-test-conn (connector: names-test-conn); ` +
			`a plugin cannot shadow a builtin: rename the plugin (name: in its junction-plugin.yaml and Spec.Name), then the connections that use it`},
		{"names-test-group", `plugin name "names-test-group" is taken by the builtin tasks task.names-test-group.* (uses: names-test-group.one, names-test-group.two); ` +
			`a plugin cannot shadow a builtin: rename the plugin (name: in its junction-plugin.yaml and Spec.Name), then the connections that use it`},
		{"names-test-free", ""},
		{"names-test", ""}, // a prefix of a group is not the group
		{"one", ""},        // nor is a task's own name
	}
	for _, tt := range tests {
		err := Taken(tt.name)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Taken(%q) = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("Taken(%q) = %v\nwant %s", tt.name, err, tt.want)
		case tt.want != "" && !errors.Is(err, ErrTaken):
			t.Errorf("Taken(%q) does not wrap ErrTaken", tt.name)
		}
	}
}

func TestIDParts(t *testing.T) {
	tests := []struct {
		id         ID
		kind, name string
	}{
		{Connector("webhook"), KindConnector, "webhook"},
		{Task("directory.upsert_contact"), KindTask, "directory.upsert_contact"},
	}
	for _, tt := range tests {
		if tt.id.Kind() != tt.kind || tt.id.Name() != tt.name {
			t.Errorf("%q: Kind %q, Name %q; want %q, %q", tt.id, tt.id.Kind(), tt.id.Name(), tt.kind, tt.name)
		}
	}
}
