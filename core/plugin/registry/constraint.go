package registry

import (
	"fmt"
	"strconv"
	"strings"
)

// CompareVersions orders two semantic versions (-1, 0, 1); see semver.
func CompareVersions(a, b string) int { return compareVersions(a, b) }

// IsVersion reports whether s is a semantic version (MAJOR.MINOR.PATCH,
// optional pre-release and build), as a tag naming a plugin version is.
func IsVersion(s string) bool {
	_, err := parseSemver(s)
	return err == nil
}

// Constraint is a semver range `junction plugin upgrade --constraint`
// takes:
//
//	"" or "*"      any release
//	^1, ^1.2.3     the same major (for 0.x, the same minor), at least that version
//	~1.2, ~1.2.3   the same major.minor, at least that version
//	>=1.2.0        at least that version
//	1.2.3          exactly that version
//
// Pre-releases match only an exact constraint.
type Constraint struct {
	op       string
	lo, hi   semver // hi is exclusive; zero means none
	hasUpper bool
	exact    string
}

// ParseConstraint reads a Constraint.
func ParseConstraint(s string) (Constraint, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return Constraint{op: "*"}, nil
	}
	if _, err := parseSemver(s); err == nil {
		return Constraint{op: "=", exact: s}, nil
	}
	var c Constraint
	var rest string
	switch {
	case strings.HasPrefix(s, "^"):
		c.op, rest = "^", s[1:]
	case strings.HasPrefix(s, "~"):
		c.op, rest = "~", s[1:]
	case strings.HasPrefix(s, ">="):
		c.op, rest = ">=", s[2:]
	default:
		return c, fmt.Errorf("constraint %q: want ^1, ~1.2, >=1.2.0, 1.2.3 or *", s)
	}
	parts := strings.Split(strings.TrimSpace(rest), ".")
	if len(parts) > 3 || (c.op == "~" && len(parts) < 2) {
		return c, fmt.Errorf("constraint %q: want ^MAJOR[.MINOR[.PATCH]], ~MAJOR.MINOR[.PATCH] or >=MAJOR.MINOR.PATCH", s)
	}
	nums := make([]uint64, 3)
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || !numeric(p) {
			return c, fmt.Errorf("constraint %q: %q is not a number", s, p)
		}
		nums[i] = n
	}
	c.lo = semver{major: nums[0], minor: nums[1], patch: nums[2]}
	switch c.op {
	case "^":
		c.hasUpper = true
		if nums[0] > 0 || len(parts) == 1 {
			c.hi = semver{major: nums[0] + 1}
		} else {
			c.hi = semver{minor: nums[1] + 1}
		}
	case "~":
		c.hasUpper = true
		c.hi = semver{major: nums[0], minor: nums[1] + 1}
	}
	return c, nil
}

// Match reports whether version satisfies c.
func (c Constraint) Match(version string) bool {
	v, err := parseSemver(version)
	if err != nil {
		return false
	}
	if c.op == "=" {
		return version == c.exact
	}
	if len(v.pre) > 0 {
		return false
	}
	if c.op == "*" {
		return true
	}
	if v.compare(c.lo) < 0 {
		return false
	}
	return !c.hasUpper || v.compare(c.hi) < 0
}
