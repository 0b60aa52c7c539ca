package smtp

import (
	"net/mail"
	"strings"
	"testing"
	"time"
)

// BenchmarkBuildMessage measures rendering one multipart/alternative
// invitation (headers, both parts quoted-printable).
func BenchmarkBuildMessage(b *testing.B) {
	m := &message{
		From: &mail.Address{Name: "Surveys", Address: "s@example.com"}, To: []*mail.Address{{Name: "Ann Lee", Address: "ann@example.com"}},
		Subject: "Com'è andata la tua visita?", Text: strings.Repeat("Hi Ann, please rate your visit: https://surveys.example.com/jfe/form/SV_demo?jt=abc\n", 10),
		HTML:            strings.Repeat(`<p>Hi Ann, please rate <a href="https://surveys.example.com/jfe/form/SV_demo?jt=abc">your visit</a></p>`, 10),
		ListUnsubscribe: []string{"mailto:u@example.com", "https://example.com/u"}, MessageID: messageID("run/x", "example.com"), Date: time.Now(),
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := m.build(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "messages/s")
}
