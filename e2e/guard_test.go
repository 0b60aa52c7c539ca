package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/server/tlstest"
)

// guardConfig is a hub serving HTTPS with three Salesforce connections: one
// protected by its path token alone, one also by an IP allow-list that
// 127.0.0.1 is not on, one also by Salesforce's client certificate.
const guardConfig = `apiVersion: junction/v1
kind: Settings
spec:
  tls: {cert: "${TLS_CERT}", key: "${TLS_KEY}"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf-token}
spec:
  connector: salesforce
  auth: {type: api_key, secret: "${SF_PATH_TOKEN}"}
  config: {organization_ids: ["00D000000000062EAA"]}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf-ips}
spec:
  connector: salesforce
  auth: {type: api_key, secret: "${SF_PATH_TOKEN}"}
  inbound: {allow_ips: [127.0.0.2/32]}
  config: {organization_ids: ["00D000000000062EAA"]}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf-cert}
spec:
  connector: salesforce
  auth: {type: api_key, secret: "${SF_PATH_TOKEN}"}
  inbound: {client_ca: "${SF_CLIENT_CA}"}
  config: {organization_ids: ["00D000000000062EAA"]}
---
apiVersion: junction/v1
kind: Directory
metadata: {name: POOL_guard}
spec: {dedup: [extRef]}
`

// guardWorkflow makes one run per stored Case of connection conn.
func guardWorkflow(conn string) string {
	return `---
apiVersion: junction/v1
kind: Workflow
metadata: {name: ` + conn + `-case}
spec:
  trigger: {connection: ` + conn + `}
  filter: [{path: $.object, op: eq, value: Case}]
  fields: {contact: {path: $.sObject.ContactId, type: string}}
  tasks:
    - name: contact
      uses: directory.upsert_contact
      with: {directory: POOL_guard, contact: {extRef: "{{ .fields.contact }}"}}
`
}

// tlsHub is a hub serving HTTPS, with a client that trusts its CA.
type tlsHub struct {
	*hubProc
	ca   *tlstest.CA
	caPM string // the CA's PEM file
}

func startTLSHub(t *testing.T) (*tlsHub, *tlstest.CA) {
	t.Helper()
	dir, data := t.TempDir(), t.TempDir()
	ca := tlstest.NewCA(t, "e2e CA")
	cert, key := ca.Server(t).WriteFiles(t, dir, "server")
	caFile := ca.WriteCA(t, dir, "ca.pem")
	writeFile(t, filepath.Join(dir, "guard.yaml"), guardConfig+guardWorkflow("sf-token")+guardWorkflow("sf-ips")+guardWorkflow("sf-cert"))
	installPlugin(t, data, "salesforce")

	addr := freeAddr(t)
	token := "e2e-admin-token"
	cmd := exec.Command(junctionBinary(t), "serve", "--config", filepath.Join(dir, "guard.yaml"), "--data", data, "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "JUNCTION_ADMIN_TOKEN="+token, "TLS_CERT="+cert, "TLS_KEY="+key,
		"SF_PATH_TOKEN="+sfToken, "SF_CLIENT_CA="+caFile)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hubProc{t: t, cmd: cmd, URL: "https://" + addr, Token: token, out: out, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() { h.Stop() })
	th := &tlsHub{hubProc: h, ca: ca, caPM: caFile}
	c := th.client(nil, nil)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("junction exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		if resp, err := c.Get(h.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if !strings.Contains(out.String(), "junction is serving on https://127.0.0.1:") {
					t.Errorf("the banner does not print an https URL:\n%s", out.String())
				}
				return th, ca
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("junction not ready after 60s:\n%s", out.String())
	return nil, nil
}

// client trusts the hub's CA, presents cert (nil: none) whatever the server
// asks for, and connects from local (nil: any loopback address).
func (h *tlsHub) client(cert *tlstest.Leaf, local net.IP) *http.Client {
	tc := &tls.Config{RootCAs: h.ca.Pool()}
	if cert != nil {
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert.TLS, nil }
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	// specTransport: its /api/v1 answers are checked against the contract
	// like every other client's (openapi_test.go).
	return &http.Client{Timeout: 30 * time.Second, Transport: specTransport{base: &http.Transport{TLSClientConfig: tc, DialContext: d.DialContext, DisableKeepAlives: true}}}
}

// post sends an outbound message the way Salesforce does.
func (h *tlsHub) post(t *testing.T, c *http.Client, path string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stored counts the events stored for conn and the runs of its workflow,
// through the admin API.
func (h *tlsHub) stored(t *testing.T, conn string) (events, runs int) {
	t.Helper()
	var recs struct {
		Records []json.RawMessage `json:"records"`
	}
	h.apiJSON(t, "/connections/"+conn+"/records?limit=200", &recs)
	var rs struct {
		Runs []json.RawMessage `json:"runs"`
	}
	h.apiJSON(t, "/runs?workflow="+conn+"-case", &rs)
	return len(recs.Records), len(rs.Runs)
}

func (h *tlsHub) apiJSON(t *testing.T, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.URL+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	resp, err := h.client(nil, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// TestSalesforceGuarded posts Salesforce outbound messages to a hub that
// serves HTTPS itself: a wrong path token, an address outside the
// allow-list, a missing or foreign client certificate are each refused with
// nothing stored and no run; the right request is acknowledged.
func TestSalesforceGuarded(t *testing.T) {
	h, ca := startTLSHub(t)
	good := ca.Client(t, "proxy.salesforce.example")
	foreign := tlstest.NewCA(t, "Someone Else").Client(t, "proxy.salesforce.example")
	local2 := net.IPv4(127, 0, 0, 2)
	body := sfFixture(t, "case-closed.xml")
	steps := []struct {
		name   string
		conn   string
		token  string
		cert   *tlstest.Leaf
		from   net.IP
		status int
		want   string
	}{
		{name: "no token", conn: "sf-token", status: 401, want: "<faultstring>unauthorized: no credentials"},
		{name: "wrong token", conn: "sf-token", token: "e2e-salesforce-path-token-0123456780", status: 401, want: "<faultstring>unauthorized: wrong credentials"},
		{name: "right token", conn: "sf-token", token: sfToken, status: 200, want: "<Ack>true</Ack>"},
		{name: "address outside the list", conn: "sf-ips", token: sfToken, status: 403, want: "<faultstring>ip_not_allowed: "},
		{name: "address in the list, wrong token", conn: "sf-ips", token: "x" + sfToken, from: local2, status: 401, want: "<faultstring>unauthorized: wrong credentials"},
		{name: "address in the list", conn: "sf-ips", token: sfToken, from: local2, status: 200, want: "<Ack>true</Ack>"},
		{name: "no client certificate", conn: "sf-cert", token: sfToken, status: 401, want: "<faultstring>client_cert_required: "},
		{name: "client certificate of another CA", conn: "sf-cert", token: sfToken, cert: foreign, status: 403, want: "certificate signed by unknown authority"},
		{name: "client certificate, wrong token", conn: "sf-cert", token: "x" + sfToken, cert: good, status: 401, want: "<faultstring>unauthorized: wrong credentials"},
		{name: "client certificate", conn: "sf-cert", token: sfToken, cert: good, status: 200, want: "<Ack>true</Ack>"},
	}
	for _, st := range steps {
		path := "/hooks/" + st.conn
		if st.token != "" {
			path += "/" + st.token
		}
		events, runs := h.stored(t, st.conn)
		code, got := h.post(t, h.client(st.cert, st.from), path, body)
		if code != st.status || !strings.Contains(got, st.want) {
			t.Fatalf("%s: HTTP %d %s; want %d with %q", st.name, code, got, st.status, st.want)
		}
		if st.status != 200 {
			if e, r := h.stored(t, st.conn); e != events || r != runs {
				t.Errorf("%s: refused, but events went %d → %d and runs %d → %d", st.name, events, e, runs, r)
			}
			continue
		}
		waitFor(t, 30*time.Second, st.name+": the event and its run", func() bool {
			e, r := h.stored(t, st.conn)
			return e == events+1 && r == runs+1
		})
	}
	if strings.Contains(h.out.String(), sfToken) {
		t.Errorf("the path token appears in the hub's output:\n%s", h.out.String())
	}
}

// TestSalesforceTokenRotation rotates the path token with the CLI, against
// the HTTPS hub: the old URL is refused at once, the printed token works.
func TestSalesforceTokenRotation(t *testing.T) {
	h, _ := startTLSHub(t)
	body := sfFixture(t, "case-closed.xml")
	c := h.client(nil, nil)
	if code, got := h.post(t, c, "/hooks/sf-token/"+sfToken, body); code != 200 {
		t.Fatalf("before rotation: HTTP %d %s", code, got)
	}
	cli := exec.Command(junctionBinary(t), "connection", "key", "rotate", "sf-token", "--server", h.URL)
	// The CLI trusts the test CA the way an operator's shell would.
	cli.Env = append(os.Environ(), "JUNCTION_ADMIN_TOKEN="+h.Token, "SSL_CERT_FILE="+h.caPM)
	out, err := cli.CombinedOutput()
	newToken := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(newToken, "jwk_") {
		t.Fatalf("junction connection key rotate: %v: %s", err, out)
	}
	if code, got := h.post(t, c, "/hooks/sf-token/"+sfToken, body); code != 401 || !strings.Contains(got, "<faultstring>unauthorized: wrong credentials") {
		t.Errorf("old token after rotation: HTTP %d %s; want 401", code, got)
	}
	other := bytes.Replace(body, []byte("04l5e00000CmnS7AAJ"), []byte("04l5e00000CmnS8AAJ"), 1)
	if code, got := h.post(t, c, "/hooks/sf-token/"+newToken, other); code != 200 || !strings.Contains(got, "<Ack>true</Ack>") {
		t.Errorf("new token: HTTP %d %s; want the ack", code, got)
	}
	// The other connections keep theirs: the key is per connection.
	if code, got := h.post(t, h.client(nil, net.IPv4(127, 0, 0, 2)), "/hooks/sf-ips/"+sfToken, body); code != 200 {
		t.Errorf("sf-ips after rotating sf-token's key: HTTP %d %s", code, got)
	}
	waitFor(t, 30*time.Second, "two events of sf-token", func() bool { e, _ := h.stored(t, "sf-token"); return e == 2 })
}
