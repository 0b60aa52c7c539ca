package config

import (
	"strings"
	"testing"
)

// TestSyntaxErrorLines pins the line reported for YAML syntax errors, since
// yaml.v3 counts lines differently for parser and scanner errors.
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unclosed flow mapping", "kind: Directory\n\nmetadata: {name: x\nspec: {}\n", "f.yaml:3: invalid YAML: did not find expected ',' or '}'"},
		{"unclosed flow sequence", "a: 1\nb: [1, 2\n", "f.yaml:2: invalid YAML: did not find expected ',' or ']'"},
		{"tab indentation", "a:\n\tb: 1\n", "f.yaml:2: invalid YAML: found character that cannot start any token"},
		{"mapping in scalar", "a: 1\nb: c: d\n", "f.yaml:2: invalid YAML: mapping values are not allowed in this context"},
		{"unclosed quote", "a: 1\nb: \"open\n", "f.yaml:2: invalid YAML: found unexpected end of stream"},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", "f.yaml:3: invalid YAML: did not find expected key"},
		{"first line", "{a: 1\n", "f.yaml:1: invalid YAML: did not find expected ',' or '}'"},
		{"variable after the flow mapping", "a: {b: [c}\nd: ${X}\n", "f.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		{"later document", "kind: Survey\n---\nkind: Survey\n---\nx: [\n", "f.yaml:5: invalid YAML: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoader(Options{LookupEnv: lookup})
			l.loadBytes("f.yaml", []byte(tt.src))
			var got []string
			for _, e := range l.errs {
				if strings.Contains(e.Msg, "invalid YAML") {
					got = append(got, e.Error())
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
