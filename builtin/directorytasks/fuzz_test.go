package directorytasks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// FuzzParseWith feeds arbitrary `with:` JSON to the input readers of the
// three tasks: each must either accept it or refuse it with a permanent
// *pluginsdk.Error, never panic.
func FuzzParseWith(f *testing.F) {
	for _, s := range []string{
		`{"directory":"POOL_demo","contact":{"email":"a@example.com","unsubscribed":"true"},"embedded":{"a":1,"b":null},"as":"transaction","date":"2026-01-01"}`,
		`{"directory":"POOL_demo","contact":{"firstName":"Ann","lastName":"Lee"},"require":["firstName","email"],"data":{"x":[1]}}`,
		`{"directory":1,"contact":[],"date":1e300}`,
		`{"date":-5,"contact":{"phone":{"x":1}}}`,
		`null`, `[]`, `"x"`, `{"contact":{"mail":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			if pe, ok := err.(*pluginsdk.Error); !ok || pe.Retryable || pe.Message == "" {
				t.Fatalf("input %s: error %#v, want a permanent *pluginsdk.Error with a message", raw, err)
			}
		}
		m, err := object(json.RawMessage(raw), "directory", "contact", "embedded", "as", "date", "require", "data", "list")
		check(err)
		if err != nil {
			return
		}
		_, _, err = target(m)
		check(err)
		_, err = scalars(m, "embedded")
		check(err)
		_, err = scalars(m, "data")
		check(err)
		_, err = date(m, time.UTC)
		check(err)
	})
}
