package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

type fakePlugins struct{}

func (fakePlugins) List(context.Context) ([]PluginInfo, error) {
	return []PluginInfo{
		{Name: "testpull", Version: "1.2.0", Kind: "wasm", Capabilities: []string{"fetch", "metadata"}, SHA256: "abcdef0123456789abcdef", Signed: true,
			Signer: "c2lnbmVyLWtleQ==", Source: "registry.test/junction/testpull:1.2.0", SourceDigest: "sha256:0f0e0d0c"},
		{Name: "testpull", Version: "0.9.0", Kind: "wasm", Capabilities: []string{"fetch"}},
		{Name: "marketo", Version: "2.0.0", Kind: "goplugin", Capabilities: []string{"perform: upsert_lead"}},
	}, nil
}

func TestPluginsPage(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.login().get("/plugins")
	mustContain(t, resp.Body, "The installed plugin registry is not available yet")

	f = newFixture(t, func(o *Options) { o.Plugins = fakePlugins{} })
	resp = f.login().get("/plugins")
	body := resp.Body
	mustContain(t, body, "<strong>marketo</strong>", "goplugin", `<span class="tag">perform: upsert_lead</span>`, "signed")
	// A plugin pulled from a registry shows where from, its digest and signer.
	mustContain(t, body, `signed by <code class="signer">c2lnbmVyLWtleQ==</code>`,
		`from <code>registry.test/junction/testpull:1.2.0</code>`, `<code class="source-digest">sha256:0f0e0d0c</code>`)
	if strings.Contains(body, "registry is not available") {
		t.Error("registry reported missing")
	}
	// crm-feed runs testpull 1.2.0, not 0.9.0.
	i120 := strings.Index(body, "<td>1.2.0</td>")
	i090 := strings.Index(body, "<td>0.9.0</td>")
	if i120 < 0 || i090 < 0 {
		t.Fatalf("versions missing:\n%s", body)
	}
	row := func(at int) string {
		end := strings.Index(body[at:], "</tr>")
		return body[at : at+end]
	}
	if !strings.Contains(row(i120), `href="/connections/crm-feed"`) || strings.Contains(row(i090), "crm-feed") {
		t.Errorf("used-by is wrong:\n1.2.0: %s\n0.9.0: %s", row(i120), row(i090))
	}
	if !strings.Contains(row(i090), "no connection") {
		t.Error("an unused plugin does not say so")
	}
}

type fakeDirectory struct{}

func (fakeDirectory) FindContacts(_ context.Context, dir string, q ContactQuery) ([]Contact, error) {
	ada := Contact{ID: "c1", Directory: dir, Email: "ada@example.com", ExtRef: "CRM-1", FirstName: "Ada", LastName: "Lovelace"}
	if q.Email == "ada@example.com" || q.ExtRef == "CRM-1" {
		return []Contact{ada}, nil
	}
	return nil, nil
}

func (fakeDirectory) Contact(_ context.Context, id string) (*ContactDetail, error) {
	if id != "c1" {
		return nil, store.ErrNotFound
	}
	d := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	return &ContactDetail{
		Contact: Contact{ID: "c1", Directory: "POOL_demo", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Embedded: map[string]any{"tier": "gold", "score": 9}},
		Transactions: []Transaction{
			{ID: "tx-late", Date: d.AddDate(0, 1, 0), Data: map[string]any{"amount": 20}},
			{ID: "tx-early", Date: d, Data: map[string]any{"amount": 10}},
		},
		Distributions: []Distribution{{ID: "d1", Survey: "SV_demo", Method: "email", Status: "failed", Error: "mailbox full", SentAt: d, RunID: "run_x"}},
	}, nil
}

func TestDirectoryPages(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	mustContain(t, b.get("/directory").Body, "The contact directory is not available yet")
	mustContain(t, b.get("/directory/contacts/c1").Body, "The contact directory is not available yet")

	f = newFixture(t, func(o *Options) { o.Directory = fakeDirectory{} })
	b = f.login()
	for _, q := range []string{"ada@example.com", "CRM-1"} {
		resp := b.get("/directory?directory=POOL_demo&q=" + q)
		mustContain(t, resp.Body, `<a href="/directory/contacts/c1">Ada Lovelace</a>`, `<label for="d-q">Email or external ID</label>`)
	}
	mustContain(t, b.get("/directory?directory=POOL_demo&q=nobody").Body, "No contact matches.")
	if resp := b.get("/directory?directory=NOPE&q=x"); resp.Status != http.StatusBadRequest {
		t.Errorf("unknown directory = %d", resp.Status)
	}
	page := b.get("/directory/contacts/c1")
	mustContain(t, page.Body, "<h1>Ada Lovelace</h1>", "<code>tier</code></th><td>gold</td>",
		`<span class="badge st-failed">failed</span><br><span class="err">mailbox full</span>`, `href="/runs/run_x"`)
	if early, late := strings.Index(page.Body, "tx-early"), strings.Index(page.Body, "tx-late"); early < 0 || late < early {
		t.Error("transactions are not in time order")
	}
	if resp := b.get("/directory/contacts/zzz"); resp.Status != http.StatusNotFound {
		t.Errorf("unknown contact = %d", resp.Status)
	}
}

func TestStaticAndHeaders(t *testing.T) {
	f := newFixture(t, nil)
	b := f.anonymous()
	css := b.get("/static/console.css")
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %s", css.Status, css.Header.Get("Content-Type"))
	}
	if b.get("/static/nope.js").Status != http.StatusNotFound {
		t.Error("unknown static file served")
	}
	login := b.get("/login")
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if login.Header.Get(h) == "" {
			t.Errorf("login page lacks %s", h)
		}
	}
	if cc := login.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("login Cache-Control %q", cc)
	}
}
