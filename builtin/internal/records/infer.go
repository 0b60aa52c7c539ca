package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/junctionhub/junction/pluginsdk"
)

// DefaultSampleRows is how many records Infer looks at for types.
const DefaultSampleRows = 20

// Infer lists the fields of the records rd reads, from up to n records
// (0: DefaultSampleRows): a CSV file's header columns, or the top-level keys
// of JSON objects in the order first seen. A field's type is "number" or
// "boolean" when every sampled non-empty value is one (CSV values are text,
// so "42" counts as a number), the JSON kind ("object", "array") when every
// value is one, and "string" otherwise.
func Infer(rd *Reader, n int) ([]pluginsdk.Field, error) {
	if n <= 0 {
		n = DefaultSampleRows
	}
	var (
		names []string
		kinds = map[string]string{}
	)
	add := func(name, kind string) {
		prev, seen := kinds[name]
		if !seen {
			names = append(names, name)
		}
		switch {
		case kind == "":
			if !seen {
				kinds[name] = ""
			}
		case !seen || prev == "":
			kinds[name] = kind
		case prev != kind:
			kinds[name] = "string"
		}
	}
	for i := 0; i < n; i++ {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if rec.Columns != nil {
			for j, c := range rec.Columns {
				add(c, textKind(rec.Values[j]))
			}
			continue
		}
		if err := objectKinds(rec.Object, add); err != nil {
			return nil, &Error{Line: rec.Line, Msg: err.Error()}
		}
	}
	if names == nil { // a CSV file with a header and no rows
		for _, c := range rd.Position().Columns {
			add(c, "")
		}
	}
	fields := make([]pluginsdk.Field, len(names))
	for i, name := range names {
		kind := kinds[name]
		if kind == "" {
			kind = "string"
		}
		fields[i] = pluginsdk.Field{Name: name, Type: kind}
	}
	return fields, nil
}

// textKind is the type a CSV value looks like; "" for an empty value.
func textKind(v string) string {
	switch {
	case v == "":
		return ""
	case v == "true" || v == "false" || v == "TRUE" || v == "FALSE" || v == "True" || v == "False":
		return "boolean"
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return "number"
	}
	return "string"
}

// objectKinds calls add for each top-level key of a JSON object, in order,
// with the kind of its value ("" for null).
func objectKinds(obj []byte, add func(name, kind string)) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key %v is not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		add(key, jsonKind(raw))
	}
	return nil
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return ""
	}
	return "number"
}
