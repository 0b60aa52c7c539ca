package console

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	durations := map[time.Duration]string{
		0: "—", 500 * time.Microsecond: "500µs", 1500 * time.Microsecond: "1.5ms", 2500 * time.Millisecond: "2.50s",
		time.Minute: "1m", 90 * time.Second: "1m30s", 2 * time.Hour: "2h", 2*time.Hour + 5*time.Minute: "2h5m",
	}
	for d, want := range durations {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
	counts := map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"}
	for n, want := range counts {
		if got := fmtCount(n); got != want {
			t.Errorf("fmtCount(%d) = %q, want %q", n, got, want)
		}
	}
	// A cut never splits a UTF-8 sequence.
	if got := shorten("añb", 2); got != "a… (3 more bytes)" {
		t.Errorf("shorten = %q", got)
	}
	if got := prettyJSON([]byte(`{"a":[1,2]}`)); got != "{\n  \"a\": [\n    1,\n    2\n  ]\n}" {
		t.Errorf("prettyJSON = %q", got)
	}
	if got := prettyJSON([]byte(`not json`)); got != "not json" {
		t.Errorf("prettyJSON of text = %q", got)
	}
}

// BenchmarkRunsPage renders the runs list with 50 runs, as an operator
// opens it.
func BenchmarkRunsPage(b *testing.B) {
	f := newFixture(b, nil)
	for i := range 50 {
		f.testRun(fmt.Sprintf(`{"kind":"order","id":"B-%d","fail":%v}`, i, i%5 == 0))
	}
	br := f.login()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/runs", nil)
		for k, v := range br.cookies {
			req.Header.Add("Cookie", k+"="+v)
		}
		resp, err := f.srv.App().Test(req.WithContext(context.Background()), -1)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET /runs: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
}
