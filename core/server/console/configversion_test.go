package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

func TestConfigVersionShown(t *testing.T) {
	applied := time.Date(2025, 5, 2, 9, 30, 0, 0, time.UTC)
	version := config.Version{Counter: 7, Digest: strings.Repeat("ab", 32), AppliedAt: applied, How: config.AppliedByAPI}
	f := newFixture(t, func(o *Options) { o.ConfigVersion = func() config.Version { return version } })
	b := f.login()
	resp := b.get("/runs")
	mustContain(t, resp.Body, `id="config-version"`, `Config version 7, applied`, `datetime="2025-05-02T09:30:00Z"`, "(apply)", version.Digest)

	// The header follows the running version.
	version.Counter, version.How = 8, config.AppliedBySIGHUP
	mustContain(t, b.get("/workflows").Body, "Config version 8", "(sighup)")

	// A run's page shows the version it ran on.
	r := f.testRun(`{"kind":"order","id":"V-1"}`)
	r.ConfigVersion = 5
	if err := f.st.Runs().Update(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	resp = b.get("/runs/" + r.ID)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET run = %d", resp.Status)
	}
	mustContain(t, resp.Body, `<dt>Config version</dt><dd id="run-config-version">5</dd>`)
	if strings.Contains(f.anonymous().get("/login").Body, "Config version") {
		t.Error("the login page shows the config version to an anonymous visitor")
	}
}
