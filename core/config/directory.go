package config

import (
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Directory is a contact directory (kind: Directory), e.g. POOL_demo.
//
//	spec:
//	  display_name: Demo pool
//	  dedup: [email, "firstName+lastName"]   # default [email]
type Directory struct {
	Name        string
	DisplayName string
	// Dedup lists the rules that decide two contacts are the same person,
	// tried in order; each rule is one or more contact fields that must all
	// match ("firstName+lastName" is the rule [firstName lastName]).
	Dedup [][]string
	Pos   Pos
}

// DedupFields are the contact fields a dedup rule may use.
var DedupFields = []string{"email", "phone", "extRef", "firstName", "lastName"}

// Survey is a survey contacts can be invited to (kind: Survey).
//
//	spec:
//	  display_name: Demo survey
//	  status: active            # active (default) or inactive
//	  link: https://surveys.example.com/jfe/form/SV_demo
type Survey struct {
	Name, DisplayName, Status, Link string
	Pos                             Pos
}

// SurveyStatuses are the values Survey.Status may take.
var SurveyStatuses = []string{"active", "inactive"}

func (d *decoder) directory(spec *yaml.Node) *Directory {
	dir := &Directory{Dedup: [][]string{{"email"}}}
	if spec == nil {
		return dir
	}
	o := d.object(spec, "spec", "display_name", "dedup")
	if o == nil {
		return dir
	}
	if v := o.get("display_name"); v != nil {
		dir.DisplayName, _ = d.str(v, o.sub("display_name"))
	}
	v := o.get("dedup")
	if v == nil {
		return dir
	}
	rules, ok := d.strList(v, o.sub("dedup"))
	if !ok {
		return dir
	}
	if len(rules) == 0 {
		d.errorf(deref(v), o.sub("dedup"), "want at least one rule, such as [email]")
		return dir
	}
	dir.Dedup = nil
	seen := map[string]bool{}
	for i, r := range rules {
		at, p := deref(deref(v).Content[i]), fmt.Sprintf("%s[%d]", o.sub("dedup"), i)
		rule := strings.Split(r, "+")
		good := true
		for _, f := range rule {
			if !contains(DedupFields, f) {
				d.errorf(at, p, "unknown contact field %q%s; want one of %s, or fields joined with + (firstName+lastName)", f, didYouMean(f, DedupFields), strings.Join(DedupFields, ", "))
				good = false
			}
		}
		if !good {
			continue
		}
		if seen[r] {
			d.errorf(at, p, "duplicate rule %q", r)
			continue
		}
		seen[r] = true
		dir.Dedup = append(dir.Dedup, rule)
	}
	return dir
}

func (d *decoder) survey(spec *yaml.Node) *Survey {
	s := &Survey{Status: "active"}
	if spec == nil {
		return s
	}
	o := d.object(spec, "spec", "display_name", "status", "link")
	if o == nil {
		return s
	}
	if v := o.get("display_name"); v != nil {
		s.DisplayName, _ = d.str(v, o.sub("display_name"))
	}
	if v := o.get("status"); v != nil {
		if st, ok := d.str(v, o.sub("status")); ok {
			if !contains(SurveyStatuses, st) {
				d.errorf(deref(v), o.sub("status"), "unknown status %q%s; want one of %s", st, didYouMean(st, SurveyStatuses), strings.Join(SurveyStatuses, ", "))
			} else {
				s.Status = st
			}
		}
	}
	if v := o.get("link"); v != nil {
		if l, ok := d.str(v, o.sub("link")); ok {
			if u, err := url.Parse(l); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errorf(deref(v), o.sub("link"), "want an http or https URL, got %q", l)
			}
			s.Link = l
		}
	}
	return s
}
