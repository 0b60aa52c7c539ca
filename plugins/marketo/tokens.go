package main

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// campaignTokens turns the tokens input into Marketo's [{name, value}] list,
// or nil when there are none. Accepted forms:
//
//	tokens: {survey_link: "https://..."}                 # a map, sorted by name
//	tokens: [{name: survey_link, value: "https://..."}]  # a list, in order
//
// A workflow's `with:` values are Go templates, so a token cannot be written
// as {{my.survey_link}} there; names are completed instead: survey_link and
// my.survey_link both mean {{my.survey_link}}, and a name already in braces
// is kept. Values are sent as strings. Tokens are rare and small, so this is
// the one input decoded with encoding/json.
func campaignTokens(what string, raw []byte) ([]byte, error) {
	if fields.IsNull(raw) {
		return nil, nil
	}
	type token struct{ name, value string }
	var list []token
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, pluginsdk.Errorf("%s: tokens: %v", what, err)
	}
	switch t := v.(type) {
	case map[string]any:
		for name, val := range t {
			s, ok := tokenValue(val)
			if !ok {
				return nil, pluginsdk.Errorf("%s: tokens.%s: want a string, number or boolean", what, name)
			}
			list = append(list, token{name, s})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	case []any:
		for i, it := range t {
			obj, ok := it.(map[string]any)
			name, _ := obj["name"].(string)
			if !ok || name == "" {
				return nil, pluginsdk.Errorf("%s: tokens[%d]: want {name, value}", what, i)
			}
			s, ok := tokenValue(obj["value"])
			if !ok {
				return nil, pluginsdk.Errorf("%s: tokens[%d].value: want a string, number or boolean", what, i)
			}
			list = append(list, token{name, s})
		}
	default:
		return nil, pluginsdk.Errorf("%s: tokens: want a map of name to value, or a list of {name, value}", what)
	}
	if len(list) == 0 {
		return nil, nil
	}
	out := []byte{'['}
	for i, t := range list {
		name := tokenName(t.name)
		if name == "" {
			return nil, pluginsdk.Errorf("%s: token name %q is not a my. token", what, t.name)
		}
		if i > 0 {
			out = append(out, ',')
		}
		o := fields.NewObject(out)
		o.String("name", name)
		o.String("value", t.value)
		out = o.Bytes()
	}
	return append(out, ']'), nil
}

func tokenValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", true
	}
	return "", false
}

// tokenName completes a program token's name: survey_link and
// my.survey_link become {{my.survey_link}}.
func tokenName(n string) string {
	n = strings.TrimSpace(n)
	if strings.HasPrefix(n, "{{") && strings.HasSuffix(n, "}}") {
		return n
	}
	n = strings.TrimPrefix(n, "my.")
	if n == "" || strings.ContainsAny(n, "{}") {
		return ""
	}
	return "{{my." + n + "}}"
}
