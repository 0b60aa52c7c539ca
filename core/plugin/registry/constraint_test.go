package registry

import "testing"

func TestConstraint(t *testing.T) {
	cases := []struct {
		c, v string
		want bool
	}{
		{"*", "2.0.0", true}, {"*", "2.0.0-rc.1", false}, {"", "0.1.0", true},
		{"^1", "1.9.3", true}, {"^1", "2.0.0", false}, {"^1", "0.9.0", false},
		{"^1.2", "1.1.9", false}, {"^1.2", "1.2.0", true},
		{"^0.2", "0.2.5", true}, {"^0.2", "0.3.0", false},
		{"~1.2", "1.2.9", true}, {"~1.2", "1.3.0", false},
		{">=1.1.0", "3.0.0", true}, {">=1.1.0", "1.0.9", false},
		{"1.1.0", "1.1.0", true}, {"1.1.0", "1.1.1", false}, {"1.0.0-rc.1", "1.0.0-rc.1", true},
	}
	for _, tc := range cases {
		c, err := ParseConstraint(tc.c)
		if err != nil {
			t.Fatalf("%q: %v", tc.c, err)
		}
		if got := c.Match(tc.v); got != tc.want {
			t.Errorf("%q matches %s = %t, want %t", tc.c, tc.v, got, tc.want)
		}
	}
	for _, bad := range []string{"^x", "~1", "<2", "^1.2.3.4"} {
		if _, err := ParseConstraint(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
