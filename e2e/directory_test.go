package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// directoryConfig keeps people posted to a webhook in POOL_e2e: each event
// upserts the person, adds a transaction and subscribes them to a list.
const directoryConfig = `apiVersion: junction/v1
kind: Directory
metadata: {name: POOL_e2e}
spec: {dedup: [email]}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: people-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: "${PEOPLE_API_KEY}"}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: people-to-directory}
spec:
  trigger: {connection: people-in}
  filter:
    - {path: $.kind, op: eq, value: purchase}
  fields:
    email: {path: $.email, type: string}
    seq:   {path: $.seq, type: number}
    tier:  {path: $.tier, type: string}
  tasks:
    - name: contact
      uses: directory.upsert_contact
      with:
        directory: POOL_e2e
        contact: {email: "{{ .fields.email }}", firstName: Ann}
        embedded: {tier: "{{ .fields.tier }}"}
    - name: purchase
      uses: directory.add_transaction
      with:
        directory: POOL_e2e
        contact: {email: "{{ .fields.email }}"}
        data: {seq: "{{ .fields.seq }}", contact: "{{ .tasks.contact.output.contactId }}"}
    - name: list
      uses: directory.add_to_mailing_list
      with: {directory: POOL_e2e, list: Buyers, contact: {email: "{{ .fields.email }}"}}
`

// TestDirectoryEndToEnd: 50 purchases of one person posted at once, with
// the email written differently, make one contact with 50 transactions; the
// API and `junction contacts` show it; an event without an email fails its
// run at once with the reason.
func TestDirectoryEndToEnd(t *testing.T) {
	configs := t.TempDir()
	writeFile(t, filepath.Join(configs, "directory.yaml"), directoryConfig)
	h := startHub(t, configs, t.TempDir(), map[string]string{"PEOPLE_API_KEY": "k-people"}, "")

	post := func(body string) {
		req, _ := http.NewRequest("POST", h.URL+"/hooks/people-in", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", "k-people")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("post %s: HTTP %d", body, resp.StatusCode)
		}
	}
	const n = 50
	emails := []string{"ann@example.com", " Ann@Example.com", "ANN@EXAMPLE.COM "}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			post(fmt.Sprintf(`{"kind":"purchase","seq":%d,"email":%q,"tier":"t%d"}`, i, emails[i%len(emails)], i))
		})
	}
	wg.Wait()
	waitFor(t, 90*time.Second, "50 completed runs", func() bool {
		return len(allRuns(h, url.Values{"workflow": {"people-to-directory"}, "status": {"completed"}})) == n
	})

	var dirs struct {
		Directories []struct {
			ID       string `json:"id"`
			Contacts int    `json:"contacts"`
		} `json:"directories"`
	}
	if code := h.api("GET", "/directories", nil, &dirs); code != 200 || len(dirs.Directories) != 1 || dirs.Directories[0].Contacts != 1 {
		t.Fatalf("GET /directories: HTTP %d %+v, want POOL_e2e with 1 contact", code, dirs)
	}
	var found struct {
		Contacts []struct {
			ID       string         `json:"id"`
			Email    string         `json:"email"`
			Embedded map[string]any `json:"embedded"`
		} `json:"contacts"`
	}
	if code := h.api("GET", "/directories/POOL_e2e/contacts?email=ann%40example.com", nil, &found); code != 200 || len(found.Contacts) != 1 {
		t.Fatalf("find by email: HTTP %d %+v, want one contact", code, found)
	}
	id := found.Contacts[0].ID
	if tier, _ := found.Contacts[0].Embedded["tier"].(string); !strings.HasPrefix(tier, "t") {
		t.Errorf("embedded = %v, want the tier of one of the events", found.Contacts[0].Embedded)
	}
	var detail struct {
		Transactions []struct {
			ID   string         `json:"id"`
			Date string         `json:"date"`
			Data map[string]any `json:"data"`
		} `json:"transactions"`
		Distributions []any `json:"distributions"`
		MailingLists  []struct {
			Name string `json:"name"`
		} `json:"mailingLists"`
	}
	if code := h.api("GET", "/contacts/"+id, nil, &detail); code != 200 {
		t.Fatalf("GET /contacts/%s: HTTP %d", id, code)
	}
	seen := map[float64]bool{}
	for i, tx := range detail.Transactions {
		seq, _ := tx.Data["seq"].(float64)
		seen[seq] = true
		if tx.Data["contact"] != id {
			t.Errorf("transaction %d data %v: want the contact ID from the previous task's output", i, tx.Data)
		}
		if i > 0 && tx.Date < detail.Transactions[i-1].Date {
			t.Errorf("transaction %d (%s) before %d (%s)", i, tx.Date, i-1, detail.Transactions[i-1].Date)
		}
	}
	if len(detail.Transactions) != n || len(seen) != n {
		t.Errorf("%d transactions (%d distinct), want %d: one per event, none twice", len(detail.Transactions), len(seen), n)
	}
	if len(detail.MailingLists) != 1 || detail.MailingLists[0].Name != "Buyers" || detail.Distributions == nil {
		t.Errorf("lists %+v, distributions %v", detail.MailingLists, detail.Distributions)
	}

	// The directory routes sit behind the admin token like the rest of the API.
	resp, err := http.Get(h.URL + "/api/v1/contacts/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/contacts/%s without a token: HTTP %d, want 401", id, resp.StatusCode)
	}

	out, code := junctionCLI(t, h, "contacts", "find", "--directory", "POOL_e2e", "--email", "ANN@example.com")
	if code != 0 || !strings.Contains(out, id) {
		t.Errorf("junction contacts find (exit %d):\n%s", code, out)
	}
	out, code = junctionCLI(t, h, "contacts", "show", id)
	if code != 0 || !strings.Contains(out, `"transactions"`) || strings.Count(out, `"seq"`) != n {
		t.Errorf("junction contacts show (exit %d):\n%s", code, lastLines(out, 20))
	}
	out, code = junctionCLI(t, h, "contacts", "find", "--directory", "POOL_nope", "--email", "a@b.c")
	if code != 1 || !strings.Contains(out, `unknown directory "POOL_nope" (configured: POOL_e2e)`) {
		t.Errorf("unknown directory (exit %d): %s", code, out)
	}

	// No email: the first task fails at once, naming the dedup field.
	post(`{"kind":"purchase","seq":99}`)
	var failed []runView
	waitFor(t, 30*time.Second, "the run without an email to fail", func() bool {
		failed = allRuns(h, url.Values{"workflow": {"people-to-directory"}, "status": {"failed"}})
		return len(failed) == 1
	})
	task := failed[0].Tasks[0]
	if task.Attempts != 1 || task.Error == nil || task.Error.Retryable ||
		task.Error.Message != "contact has none of the directory's dedup fields: email" {
		t.Errorf("failed task: attempts %d, error %+v; want one attempt and the missing field named", task.Attempts, task.Error)
	}
}
