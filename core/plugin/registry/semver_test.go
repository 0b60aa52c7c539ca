package registry

import "testing"

func TestSemverOrder(t *testing.T) {
	// Each version ranks below the next (semver.org's precedence example).
	ordered := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
	}
	for i := 0; i+1 < len(ordered); i++ {
		a, b := ordered[i], ordered[i+1]
		if c := compareVersions(a, b); c != -1 {
			t.Errorf("compare(%s, %s) = %d, want -1", a, b, c)
		}
		if c := compareVersions(b, a); c != 1 {
			t.Errorf("compare(%s, %s) = %d, want 1", b, a, c)
		}
	}
	if c := compareVersions("1.0.0+build.5", "1.0.0+build.7"); c != 0 {
		t.Errorf("build metadata must not affect precedence, got %d", c)
	}
}

func TestSemverRejects(t *testing.T) {
	for _, v := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b", "1.0.0.0", "1.0.x"} {
		if _, err := parseSemver(v); err == nil {
			t.Errorf("parseSemver(%q) succeeded", v)
		}
	}
}

func FuzzParseSemver(f *testing.F) {
	for _, s := range []string{"1.0.0", "1.0.0-rc.1+b", "0.0.0-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseSemver(s)
		if err != nil {
			return
		}
		if v.compare(v) != 0 {
			t.Fatalf("%q does not equal itself", s)
		}
	})
}
