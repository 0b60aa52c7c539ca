package survey

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerifyLink measures checking a personal link's token, what a
// survey landing page does on every visit.
func BenchmarkVerifyLink(b *testing.B) {
	ctx := context.Background()
	l := NewLinks(openStore(b).Secrets())
	token, err := l.Sign(ctx, LinkClaims{ContactID: "CID_01JABCDEF", DistributionID: "DIST_01JABCDEF", SurveyID: "SV_demo",
		Expires: time.Now().Add(time.Hour).Unix(), Embedded: map[string]any{"Store": "Milano Centrale", "tier": "gold"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := l.VerifyLink(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "links/s")
}

// BenchmarkDistributeEmail measures a whole email distribution: contact
// upsert, distribution record, link, rendering, and the SMTP exchange
// (STARTTLS and AUTH on a new connection each time) with a server on
// loopback.
func BenchmarkDistributeEmail(b *testing.B) {
	h := newHub(b, hubOptions{})
	i := 0
	start := time.Now()
	for b.Loop() {
		i++
		if _, err := h.distribute.Execute(context.Background(), callFor("run_"+strconv.Itoa(i)+"/invite", emailWith)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "emails/s")
}
