package fields

import "testing"

// BenchmarkValid1KB is the check the webhook connector and the event log
// each make on every pushed payload.
func BenchmarkValid1KB(b *testing.B) {
	body := []byte(doc)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !Valid(body) {
			b.Fatal("valid document refused")
		}
	}
}
