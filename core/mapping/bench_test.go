package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// segmentTrack is testdata/segment_track.json without the indentation: about
// 1 KB, the size of a typical Segment track call.
func segmentTrack(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile("testdata/segment_track.json")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchFilterFields(b *testing.B) (*Filter, *Fields) {
	b.Helper()
	filter, err := CompileFilter([]Condition{
		{Path: "$.type", Op: "eq", Value: "track"},
		{Path: "$.event", Op: "eq", Value: "Transaction Created"},
	})
	if err != nil {
		b.Fatal(err)
	}
	fields, err := CompileFields(map[string]FieldSpec{
		"email":    {Path: "$.context.traits.email", Type: TypeString, Required: true},
		"amount":   {Path: "$.properties.revenue", Type: TypeNumber},
		"orderId":  {Path: "$.properties.orderId", Type: TypeString},
		"currency": {Path: "$.properties.currency", Type: TypeString, Default: "USD"},
		"sku":      {Path: "$.properties.products[0].sku", Type: TypeString},
	})
	if err != nil {
		b.Fatal(err)
	}
	return filter, fields
}

// BenchmarkFilterAndFields is the per-event work of a workflow before its
// tasks: the filter (2 conditions) and the fields (5).
func BenchmarkFilterAndFields(b *testing.B) {
	payload := segmentTrack(b)
	filter, fields := benchFilterFields(b)
	b.Run("decoded", func(b *testing.B) {
		doc, err := Decode(payload)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !filter.Match(doc) {
				b.Fatal("filter did not match")
			}
			if _, err := fields.Apply(doc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("with-decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			doc, err := Decode(payload)
			if err != nil {
				b.Fatal(err)
			}
			if !filter.Match(doc) {
				b.Fatal("filter did not match")
			}
			if _, err := fields.Apply(doc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkDecode compares Decode with encoding/json (UseNumber), which it
// replaces on the hot path.
func BenchmarkDecode(b *testing.B) {
	payload := segmentTrack(b)
	b.Run("mapping", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := Decode(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(payload))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRender renders a `with:` value of 5 leaves: a literal, three
// single references (typed) and one text template.
func BenchmarkRender(b *testing.B) {
	payload := segmentTrack(b)
	_, fields := benchFilterFields(b)
	doc, err := Decode(payload)
	if err != nil {
		b.Fatal(err)
	}
	fv, err := fields.Apply(doc)
	if err != nil {
		b.Fatal(err)
	}
	v, err := CompileValue(map[string]any{
		"directory": "POOL_demo",
		"contact":   map[string]any{"email": "{{ .fields.email }}"},
		"data": map[string]any{
			"amount": "{{ .fields.amount }}",
			"order":  "{{ .fields.orderId }}",
			"note":   "Order {{ .fields.orderId }}: {{ .fields.amount }} {{ .fields.currency }}",
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	data := map[string]any{"event": doc, "fields": fv, "tasks": map[string]map[string]any{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Render(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
}
