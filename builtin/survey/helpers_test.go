package survey

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/goleak"

	_ "github.com/junctionhub/junction/builtin/smtp" // registers the smtp connector
	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	_ "github.com/junctionhub/junction/builtin/twilio" // registers the twilio connector
	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	accountSID = "AC00000000000000000000000000000000"
	authToken  = "example-auth-token" // the token the twilio fixture is signed with
	surveyLink = "https://surveys.example.com/jfe/form/SV_demo"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", store.Options{
		InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// hub is the part of a running hub the survey tasks see: a store, a
// directory, surveys, real smtp and twilio connections (configured by the
// connection manager, as the hub does) against servers on loopback.
type hub struct {
	st         store.Store
	env        *task.Env
	dir        *directory.Service
	conns      *connector.Manager
	mail       *smtptest.Server
	api        *twiliotest.Server
	distribute task.Executor
	reply      task.Executor
}

type hubOptions struct {
	smtp smtptest.Options
	// extra connections, e.g. a second smtp connection with a wrong password
	extra func(h *hub) []*config.Connection
}

func newHub(t testing.TB, o hubOptions) *hub {
	t.Helper()
	if o.smtp.Username == "" {
		o.smtp.Username, o.smtp.Password = "surveys", "s3cret"
	}
	h := &hub{st: openStore(t), mail: smtptest.NewServer(t, o.smtp), api: twiliotest.NewServer(t, accountSID, authToken)}
	conns := []*config.Connection{h.smtpConn("mail", o.smtp.Password), {
		Name: "sms-replies", Connector: "twilio",
		Auth:    config.Auth{Type: "basic", Username: accountSID, Password: authToken},
		Config:  map[string]any{"account_sid": accountSID, "from": "+15005550006", "base_url": h.api.URL},
		Network: config.Network{AllowPrivate: true},
	}}
	if o.extra != nil {
		conns = append(conns, o.extra(h)...)
	}
	mgr, err := connector.NewManager(context.Background(), connector.ManagerOptions{
		Connections: conns, Store: h.st, BaseURL: "https://junction.example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("connections: %v", err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	h.conns = mgr
	h.dir = directory.New(h.st, []*config.Directory{{Name: "POOL_demo", Dedup: [][]string{{"email"}, {"phone"}}}})
	h.env = &task.Env{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Events: h.st.Log(), Secrets: h.st.Secrets(), Contacts: h.dir, Distributions: h.dir, Connections: mgr.ForTasks(),
		Surveys: []*config.Survey{
			{Name: "SV_demo", DisplayName: "Store visit", Status: "active", Link: surveyLink},
			{Name: "SV_old", Status: "inactive", Link: "https://surveys.example.com/jfe/form/SV_old"},
		},
	}
	h.distribute, h.reply = build(t, h.env, "survey.distribute"), build(t, h.env, "survey.record_reply")
	return h
}

func (h *hub) smtpConn(name, password string) *config.Connection {
	return &config.Connection{
		Name: name, Connector: "smtp",
		Auth: config.Auth{Type: "basic", Username: "surveys", Password: password},
		Config: map[string]any{"host": h.mail.Host, "port": h.mail.Port, "from": "Example Surveys <surveys@example.com>",
			"reply_to": "help@example.com", "ca_cert": h.mail.CAPEM},
	}
}

// links is the signer of the hub's survey.distribute.
func (h *hub) links() *Links { return h.distribute.(*distributor).links }

func build(t testing.TB, env *task.Env, id string) task.Executor {
	t.Helper()
	d, ok := task.Lookup(id)
	if !ok {
		t.Fatalf("task %s is not registered", id)
	}
	ex, err := d.New(env)
	if err != nil {
		t.Fatalf("build %s: %v", id, err)
	}
	return ex
}

// run executes a task with the given `with:` (JSON) and idempotency key.
func (h *hub) run(t *testing.T, ex task.Executor, key, with string, mods ...func(*task.Call)) (json.RawMessage, error) {
	t.Helper()
	c := callFor(key, with)
	for _, m := range mods {
		m(c)
	}
	return ex.Execute(context.Background(), c)
}

// callFor is the first attempt of a task of run <key before "/">.
func callFor(key, with string) *task.Call {
	return &task.Call{RunID: strings.Split(key, "/")[0], Workflow: "wf", Task: "invite", Input: json.RawMessage(with), IdempotencyKey: key, Attempt: 1}
}

func (h *hub) distributeOK(t *testing.T, key, with string) DistributeOutput {
	t.Helper()
	raw, err := h.run(t, h.distribute, key, with)
	if err != nil {
		t.Fatalf("distribute: %v", err)
	}
	var out DistributeOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// permanentError asserts err is a permanent *pluginsdk.Error and returns its
// message.
func permanentError(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	pe := pluginsdk.AsError(err)
	if pe.Retryable {
		t.Errorf("error %q is retryable, want permanent", pe.Message)
	}
	return pe.Message
}

// tokenOf returns the jt parameter of a personal link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(LinkParam)
}

func (h *hub) distribution(t *testing.T, id string) *directory.Distribution {
	t.Helper()
	d, err := h.dir.Distribution(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
