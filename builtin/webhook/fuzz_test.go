package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseBody checks ParseBody against encoding/json: it accepts exactly the
// valid JSON objects and non-empty arrays of objects, and each payload is the
// object's bytes as sent.
func FuzzParseBody(f *testing.F) {
	for _, name := range []string{"order.json", "orders.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `[{},{}]`, `[{}, 1]`, `{"a":}`, ` [ {"a" : [1,{}]} ] `, `"x"`, `{"a":1}{"b":2}`, "\xff", `[{"a":"\u00e9"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		payloads, err := ParseBody(body)
		var values []json.RawMessage
		trimmed := bytes.Trim(body, " \t\r\n")
		valid := json.Valid(body)
		switch {
		case valid && len(trimmed) > 0 && trimmed[0] == '{':
			values = []json.RawMessage{trimmed}
		case valid && len(trimmed) > 0 && trimmed[0] == '[':
			if json.Unmarshal(body, &values) != nil {
				t.Fatalf("json.Valid but Unmarshal into []RawMessage failed: %q", body)
			}
		}
		objects := len(values) > 0
		for _, v := range values {
			if bytes.Trim(v, " \t\r\n")[0] != '{' {
				objects = false
			}
		}
		if objects != (err == nil) {
			t.Fatalf("ParseBody(%q) = %d payloads, err %v; encoding/json says valid=%v objects=%v", body, len(payloads), err, valid, objects)
		}
		if err != nil {
			return
		}
		if len(payloads) != len(values) {
			t.Fatalf("ParseBody(%q): %d payloads, want %d", body, len(payloads), len(values))
		}
		for i, p := range payloads {
			if !bytes.Equal(p, bytes.Trim(values[i], " \t\r\n")) {
				t.Fatalf("payload %d = %q, want the element's bytes %q", i, p, values[i])
			}
			if !bytes.Contains(body, p) {
				t.Fatalf("payload %d %q is not a slice of the body", i, p)
			}
		}
	})
}
