package mapping

import (
	"errors"
	"testing"
	"time"
)

const filterDoc = `{
  "type": "track",
  "event": "Order Completed",
  "n": 100,
  "f": 100.5,
  "ns": "100",
  "flag": true,
  "sflag": "TRUE",
  "nothing": null,
  "ts": "2024-05-01T10:15:30Z",
  "day": "2024-05-01",
  "tags": ["vip", "new", 7, true],
  "items": [{"sku": "a", "price": 5}, {"sku": "b", "price": 50}],
  "obj": {"k": 1}
}`

func TestFilterOps(t *testing.T) {
	doc := mustDecode(t, filterDoc)
	tests := []struct {
		name string
		cond Condition
		want bool
	}{
		{"eq string", Condition{"$.type", "eq", "track"}, true},
		{"eq string is exact", Condition{"$.type", "eq", "Track"}, false},
		{"eq string with spaces", Condition{"$.event", "eq", "Order Completed"}, true},
		{"eq int vs number", Condition{"$.n", "eq", 100}, true},
		{"eq float vs integer", Condition{"$.n", "eq", 100.0}, true},
		{"eq int vs numeric string", Condition{"$.ns", "eq", 100}, true},
		{"eq numeric string vs number", Condition{"$.n", "eq", "100"}, true},
		{"eq numeric string vs numeric string is exact", Condition{"$.ns", "eq", "100.0"}, false},
		{"eq number mismatch", Condition{"$.f", "eq", 100}, false},
		{"eq number vs word", Condition{"$.type", "eq", 5}, false},
		{"eq bool", Condition{"$.flag", "eq", true}, true},
		{"eq bool vs string true", Condition{"$.sflag", "eq", true}, true},
		{"eq string true vs bool", Condition{"$.flag", "eq", "true"}, true},
		{"eq bool false", Condition{"$.flag", "eq", false}, false},
		{"eq bool vs number", Condition{"$.n", "eq", true}, false},
		{"eq null", Condition{"$.nothing", "eq", nil}, true},
		{"eq null vs value", Condition{"$.type", "eq", nil}, false},
		{"eq missing path", Condition{"$.nope", "eq", "track"}, false},
		{"eq missing path vs null", Condition{"$.nope", "eq", nil}, false},
		{"eq object", Condition{"$.obj", "eq", map[string]any{"k": 1}}, true},
		{"eq object mismatch", Condition{"$.obj", "eq", map[string]any{"k": 2}}, false},
		{"eq array", Condition{"$.tags", "eq", []any{"vip", "new", 7, true}}, true},
		{"eq multi-match any", Condition{"$.items[*].sku", "eq", "b"}, true},
		{"eq multi-match none", Condition{"$.items[*].sku", "eq", "c"}, false},
		{"eq time value vs string", Condition{"$.ts", "eq", time.Date(2024, 5, 1, 10, 15, 30, 0, time.UTC)}, true},

		{"ne", Condition{"$.type", "ne", "identify"}, true},
		{"ne equal", Condition{"$.type", "ne", "track"}, false},
		{"ne coerced number", Condition{"$.ns", "ne", 100}, false},
		{"ne missing path", Condition{"$.nope", "ne", "x"}, true},
		{"ne multi-match one equal", Condition{"$.items[*].sku", "ne", "a"}, false},
		{"ne multi-match none equal", Condition{"$.items[*].sku", "ne", "z"}, true},
		{"ne null", Condition{"$.nothing", "ne", nil}, false},

		{"in", Condition{"$.event", "in", []any{"Order Completed", "Order Refunded"}}, true},
		{"in none", Condition{"$.event", "in", []any{"Order Refunded"}}, false},
		{"in numbers", Condition{"$.ns", "in", []any{1, 100}}, true},
		{"in string slice", Condition{"$.type", "in", []string{"page", "track"}}, true},
		{"in empty list", Condition{"$.type", "in", []any{}}, false},
		{"in missing", Condition{"$.nope", "in", []any{"x"}}, false},
		{"in with null", Condition{"$.nothing", "in", []any{nil}}, true},
		{"in multi-match", Condition{"$.items[*].sku", "in", []any{"z", "b"}}, true},

		{"exists", Condition{"$.type", "exists", nil}, true},
		{"exists true", Condition{"$.type", "exists", true}, true},
		{"exists null", Condition{"$.nothing", "exists", true}, false},
		{"exists missing", Condition{"$.nope", "exists", nil}, false},
		{"not exists missing", Condition{"$.nope", "exists", false}, true},
		{"not exists null", Condition{"$.nothing", "exists", false}, true},
		{"not exists present", Condition{"$.type", "exists", false}, false},
		{"exists multi-match", Condition{"$.items[*].sku", "exists", true}, true},
		{"exists multi-match none", Condition{"$.items[*].nope", "exists", true}, false},
		{"not exists multi-match none", Condition{"$.items[*].nope", "exists", false}, true},
		{"exists index out of range", Condition{"$.tags[9]", "exists", true}, false},

		{"gt", Condition{"$.n", "gt", 99}, true},
		{"gt equal", Condition{"$.n", "gt", 100}, false},
		{"gte equal", Condition{"$.n", "gte", 100}, true},
		{"lt", Condition{"$.f", "lt", 100.6}, true},
		{"lte", Condition{"$.f", "lte", 100.5}, true},
		{"lte false", Condition{"$.f", "lte", 100.4}, false},
		{"gt numeric string node", Condition{"$.ns", "gt", 50}, true},
		{"gt numeric string value", Condition{"$.n", "gt", "50"}, true},
		{"gt word node", Condition{"$.type", "gt", 1}, false},
		{"gt null", Condition{"$.nothing", "gt", 1}, false},
		{"gt missing", Condition{"$.nope", "gt", 1}, false},
		{"gt multi-match any", Condition{"$.items[*].price", "gt", 10}, true},
		{"gt multi-match none", Condition{"$.items[*].price", "gt", 100}, false},
		{"gt time", Condition{"$.ts", "gt", "2024-05-01T10:00:00Z"}, true},
		{"lt time", Condition{"$.ts", "lt", "2024-05-01T10:00:00Z"}, false},
		{"gt time with zone", Condition{"$.ts", "lt", "2024-05-01T12:15:31+02:00"}, true},
		{"gte date", Condition{"$.day", "gte", "2024-05-01"}, true},
		{"lt date vs timestamp", Condition{"$.ts", "lt", "2024-05-02"}, true},
		{"gt time.Time value", Condition{"$.ts", "gt", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, true},
		{"gt time vs word", Condition{"$.type", "gt", "2024-01-01"}, false},
		{"gt time vs number", Condition{"$.n", "gt", "2024-01-01"}, false},

		{"contains substring", Condition{"$.event", "contains", "Complete"}, true},
		{"contains substring is case sensitive", Condition{"$.event", "contains", "complete"}, false},
		{"contains element", Condition{"$.tags", "contains", "vip"}, true},
		{"contains numeric element", Condition{"$.tags", "contains", 7}, true},
		{"contains numeric element as string", Condition{"$.tags", "contains", "7"}, true},
		{"contains bool element", Condition{"$.tags", "contains", true}, true},
		{"contains missing element", Condition{"$.tags", "contains", "old"}, false},
		{"contains on number", Condition{"$.n", "contains", "1"}, false},
		{"contains on missing", Condition{"$.nope", "contains", "x"}, false},
		{"contains number in string", Condition{"$.ts", "contains", 2024}, true},

		{"matches", Condition{"$.event", "matches", "^Order (Completed|Refunded)$"}, true},
		{"matches unanchored", Condition{"$.event", "matches", "Compl"}, true},
		{"matches no", Condition{"$.event", "matches", "^Completed"}, false},
		{"matches number text", Condition{"$.n", "matches", `^\d+$`}, true},
		{"matches bool text", Condition{"$.flag", "matches", "^true$"}, true},
		{"matches object", Condition{"$.obj", "matches", "."}, false},
		{"matches null", Condition{"$.nothing", "matches", ".*"}, false},
		{"matches missing", Condition{"$.nope", "matches", ".*"}, false},
		{"matches multi-match", Condition{"$.items[*].sku", "matches", "^b$"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFilter([]Condition{tt.cond})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(doc); got != tt.want {
				t.Errorf("Match(%+v) = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestFilterAllMustHold(t *testing.T) {
	doc := mustDecode(t, filterDoc)
	tests := []struct {
		conds []Condition
		want  bool
	}{
		{nil, true},
		{[]Condition{{"$.type", "eq", "track"}, {"$.n", "gte", 100}}, true},
		{[]Condition{{"$.type", "eq", "track"}, {"$.n", "gt", 100}}, false},
		{[]Condition{{"$.type", "eq", "page"}, {"$.n", "gte", 100}}, false},
	}
	for i, tt := range tests {
		f, err := CompileFilter(tt.conds)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(doc); got != tt.want {
			t.Errorf("case %d: Match = %v, want %v", i, got, tt.want)
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	tests := []struct {
		name string
		cond Condition
		want string
	}{
		{"no path", Condition{"", "eq", 1}, "filter[1]: path is required, e.g. {path: $.type, op: eq, value: track}"},
		{"bad path", Condition{"$.[", "eq", 1}, `filter[1]: JSONPath "$.[": unexpected '[' at position 3`},
		{"no op", Condition{"$.a", "", 1}, "filter[1]: op is required; use one of eq, ne, in, exists, gt, gte, lt, lte, contains, matches"},
		{"unknown op", Condition{"$.a", "equals", 1}, `filter[1]: unknown op "equals"; use one of eq, ne, in, exists, gt, gte, lt, lte, contains, matches`},
		{"eq odd value", Condition{"$.a", "eq", struct{}{}}, "filter[1]: op eq: cannot compare with struct {}"},
		{"in not a list", Condition{"$.a", "in", "track"}, `filter[1]: op in takes a list of values, e.g. [track, page], not "track"`},
		{"in bad element", Condition{"$.a", "in", []any{1, struct{}{}}}, "filter[1]: op in: value[1]: cannot compare with struct {}"},
		{"exists not bool", Condition{"$.a", "exists", "yes"}, `filter[1]: op exists takes true or false, not "yes"`},
		{"gt word", Condition{"$.a", "gt", "abc"}, `filter[1]: op gt needs a number or an RFC 3339 time (2024-05-01T00:00:00Z), not "abc"`},
		{"lte bool", Condition{"$.a", "lte", true}, "filter[1]: op lte needs a number or an RFC 3339 time (2024-05-01T00:00:00Z), not true"},
		{"gte missing value", Condition{"$.a", "gte", nil}, "filter[1]: op gte needs a number or an RFC 3339 time (2024-05-01T00:00:00Z), not null"},
		{"contains object", Condition{"$.a", "contains", map[string]any{}}, "filter[1]: op contains takes a string, number or boolean, not an object"},
		{"contains null", Condition{"$.a", "contains", nil}, "filter[1]: op contains takes a string, number or boolean, not null"},
		{"matches not string", Condition{"$.a", "matches", 5}, "filter[1]: op matches takes a regular expression string, not 5"},
		{"matches bad regexp", Condition{"$.a", "matches", "(a"}, "filter[1]: op matches: error parsing regexp: missing closing ): `(a`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileFilter([]Condition{{"$.ok", "exists", nil}, tt.cond})
			var ce *ConditionError
			if !errors.As(err, &ce) || ce.Index != 1 {
				t.Fatalf("error %v is not a *ConditionError at index 1", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}
