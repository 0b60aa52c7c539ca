package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMarketo is a Marketo REST API on 127.0.0.1 speaking the documented
// responses (the fixtures in testdata/ are its vocabulary): the identity
// endpoint, bearer-token checks with 601/602, the activity stream with
// paging tokens, lead lookup, createOrUpdate, campaign triggers and program
// status. Tests queue error answers with inject.
type fakeMarketo struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	issued     int
	valid      map[string]bool // tokens Marketo accepts
	expiresIn  int
	tokenCalls int
	inject     []string // fixture files answering the next REST calls
	activities []map[string]any
	leads      map[int]map[string]any
	emails     map[string]int
	nextLead   int
	campaigns  map[int]bool
	calls      []restCall
}

type restCall struct {
	Method, Path string
	Query        url.Values
	Body         []byte
	Auth         string
}

const (
	testClientID     = "3f1c1b8e-fake-client"
	testClientSecret = "s3cret/with+chars"
)

func newFakeMarketo(t testing.TB) *fakeMarketo {
	t.Helper()
	f := &fakeMarketo{
		t: t, valid: map[string]bool{}, expiresIn: 3599,
		leads:     map[int]map[string]any{},
		emails:    map[string]int{},
		nextLead:  1000,
		campaigns: map[int]bool{1001: true},
	}
	f.addLead(50, "anna.rossi@example.com", "Anna", "Rossi")
	f.addLead(51, "marco.bianchi@example.com", "Marco", "Bianchi")
	f.addLead(52, "giulia.verdi@example.com", "Giulia", "Verdi")
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// No keep-alive: the acceptance suite checks for leaked goroutines, and
	// an idle client connection would look like one.
	f.srv.Config.SetKeepAlivesEnabled(false)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMarketo) URL() string { return f.srv.URL }

func (f *fakeMarketo) addLead(id int, email, first, last string) {
	f.leads[id] = map[string]any{
		"id": id, "email": email, "firstName": first, "lastName": last, "company": "Rossi Arredamenti",
		"createdAt": "2026-02-01T09:00:00Z", "updatedAt": "2026-03-01T09:00:00Z",
	}
	f.emails[email] = id
}

// addActivities appends n activities of type typ, for leads cycling
// through leadIDs, one minute apart after the last one.
func (f *fakeMarketo) addActivities(n, typ int, leadIDs ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		k := len(f.activities)
		id := 102988 + k
		f.activities = append(f.activities, map[string]any{
			"id": id, "marketoGUID": strconv.Itoa(id), "leadId": leadIDs[i%len(leadIDs)],
			"activityDate":   base.Add(time.Duration(k) * time.Minute).Format(time.RFC3339),
			"activityTypeId": typ, "primaryAttributeValueId": 71, "primaryAttributeValue": "localhost/page.html",
			"attributes": []any{map[string]any{"name": "Client IP Address", "value": "203.0.113.7"}},
		})
	}
}

// injectNext answers the next REST calls with these fixture files, in order.
func (f *fakeMarketo) injectNext(files ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = append(f.inject, files...)
}

// expireTokens makes Marketo refuse every token issued so far with 602.
func (f *fakeMarketo) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.valid {
		f.valid[k] = false
	}
}

func (f *fakeMarketo) restCalls() []restCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]restCall(nil), f.calls...)
}

func (f *fakeMarketo) tokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func failure(code, msg string) map[string]any {
	return map[string]any{"requestId": "fake#1", "success": false, "errors": []any{map[string]any{"code": code, "message": msg}}}
}

func success(result any) map[string]any {
	return map[string]any{"requestId": "fake#1", "success": true, "result": result}
}

var (
	triggerRE = regexp.MustCompile(`^/rest/v1/campaigns/(\d+)/trigger\.json$`)
	programRE = regexp.MustCompile(`^/rest/v1/leads/programs/(\d+)/status\.json$`)
)

func (f *fakeMarketo) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/identity/oauth/token" {
		f.token(w, r)
		return
	}
	f.calls = append(f.calls, restCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, Auth: r.Header.Get("Authorization")})
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch valid, known := f.valid[tok]; {
	case !known:
		_, _ = w.Write(fixture(f.t, "error-invalid-token.json"))
		return
	case !valid:
		_, _ = w.Write(fixture(f.t, "error-token-expired.json"))
		return
	}
	if len(f.inject) > 0 {
		name := f.inject[0]
		f.inject = f.inject[1:]
		_, _ = w.Write(fixture(f.t, name))
		return
	}
	switch p := r.URL.Path; {
	case r.Method == "GET" && p == "/rest/v1/activities/pagingtoken.json":
		f.pagingToken(w, r)
	case r.Method == "GET" && p == "/rest/v1/activities.json":
		f.activitiesPage(w, r)
	case r.Method == "GET" && p == "/rest/v1/leads.json":
		f.leadsByID(w, r)
	case r.Method == "GET" && p == "/rest/v1/leads/describe.json":
		_, _ = w.Write(fixture(f.t, "leads-describe-response.json"))
	case r.Method == "POST" && p == "/rest/v1/leads.json":
		f.upsert(w, body)
	case r.Method == "POST" && triggerRE.MatchString(p):
		id, _ := strconv.Atoi(triggerRE.FindStringSubmatch(p)[1])
		if !f.campaigns[id] {
			_, _ = w.Write(fixture(f.t, "error-campaign-not-found.json"))
			return
		}
		writeJSON(w, 200, success([]any{map[string]any{"id": id}}))
	case r.Method == "POST" && programRE.MatchString(p):
		f.programStatus(w, body)
	default:
		writeJSON(w, 404, map[string]any{"message": "no route " + r.Method + " " + p})
	}
}

func (f *fakeMarketo) token(w http.ResponseWriter, r *http.Request) {
	f.tokenCalls++
	q := r.URL.Query()
	if r.Method != "GET" || q.Get("grant_type") != "client_credentials" || q.Get("client_id") != testClientID || q.Get("client_secret") != testClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write(fixture(f.t, "identity-error.json"))
		return
	}
	var tok map[string]any
	if err := json.Unmarshal(fixture(f.t, "identity-token.json"), &tok); err != nil {
		f.t.Error(err)
	}
	f.issued++
	name := fmt.Sprintf("cdf01657-110d-4155-99a7-%012d:int", f.issued)
	f.valid[name] = true
	tok["access_token"], tok["expires_in"] = name, f.expiresIn
	writeJSON(w, 200, tok)
}

func (f *fakeMarketo) pagingToken(w http.ResponseWriter, r *http.Request) {
	since, err := time.Parse(time.RFC3339, r.URL.Query().Get("sinceDatetime"))
	if err != nil {
		writeJSON(w, 200, failure("1001", "Invalid value for sinceDatetime"))
		return
	}
	i := 0
	for i < len(f.activities) {
		at, _ := time.Parse(time.RFC3339, f.activities[i]["activityDate"].(string))
		if !at.Before(since) {
			break
		}
		i++
	}
	writeJSON(w, 200, map[string]any{"requestId": "fake#1", "success": true, "nextPageToken": fmt.Sprintf("PT%08d", i)})
}

// activitiesPage reads from the position in the token: up to batchSize
// activities of the asked types, scanning at most batchSize entries (so a
// page may be empty while moreResult is true, as Marketo's can).
func (f *fakeMarketo) activitiesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var pos int
	if _, err := fmt.Sscanf(q.Get("nextPageToken"), "PT%08d", &pos); err != nil || pos > len(f.activities) {
		writeJSON(w, 200, failure("1001", "Invalid value for nextPageToken"))
		return
	}
	batch, _ := strconv.Atoi(q.Get("batchSize"))
	if batch <= 0 || batch > 300 {
		batch = 300
	}
	types := map[int]bool{}
	for _, s := range strings.Split(q.Get("activityTypeIds"), ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			writeJSON(w, 200, failure("1003", "activityTypeIds is required"))
			return
		}
		types[n] = true
	}
	result := []any{}
	end := pos
	for end < len(f.activities) && end-pos < batch {
		if a := f.activities[end]; types[a["activityTypeId"].(int)] {
			result = append(result, a)
		}
		end++
	}
	writeJSON(w, 200, map[string]any{
		"requestId": "fake#1", "success": true, "result": result,
		"nextPageToken": fmt.Sprintf("PT%08d", end), "moreResult": end < len(f.activities),
	})
}

func (f *fakeMarketo) leadsByID(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("filterType") != "id" {
		writeJSON(w, 200, failure("1003", "filterType id expected by the fake"))
		return
	}
	want := strings.Split(q.Get("fields"), ",")
	result := []any{}
	for _, s := range strings.Split(q.Get("filterValues"), ",") {
		id, _ := strconv.Atoi(s)
		lead, ok := f.leads[id]
		if !ok {
			continue
		}
		rec := map[string]any{}
		for _, k := range want {
			if v, ok := lead[k]; ok {
				rec[k] = v
			} else {
				rec[k] = nil
			}
		}
		result = append(result, rec)
	}
	writeJSON(w, 200, success(result))
}

func (f *fakeMarketo) upsert(w http.ResponseWriter, body []byte) {
	var req struct {
		Action, LookupField string
		Input               []map[string]any
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Action != "createOrUpdate" || req.LookupField != "email" {
		writeJSON(w, 200, failure("609", "Invalid JSON"))
		return
	}
	result := []any{}
	for _, in := range req.Input {
		email, _ := in["email"].(string)
		if strings.HasPrefix(email, "dup@") {
			result = append(result, map[string]any{"status": "skipped", "reasons": []any{map[string]any{"code": "1007", "message": "Multiple lead match lookup criteria"}}})
			continue
		}
		if id, ok := f.emails[email]; ok {
			result = append(result, map[string]any{"id": id, "status": "updated"})
			continue
		}
		f.nextLead++
		f.addLead(f.nextLead, email, fmt.Sprint(in["firstName"]), fmt.Sprint(in["lastName"]))
		result = append(result, map[string]any{"id": f.nextLead, "status": "created"})
	}
	writeJSON(w, 200, success(result))
}

func (f *fakeMarketo) programStatus(w http.ResponseWriter, body []byte) {
	var req struct {
		Status string
		Input  []struct{ ID int }
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Status == "" {
		writeJSON(w, 200, failure("609", "Invalid JSON"))
		return
	}
	result := []any{}
	for _, in := range req.Input {
		if _, ok := f.leads[in.ID]; !ok {
			result = append(result, map[string]any{"id": in.ID, "status": "skipped", "reasons": []any{map[string]any{"code": "1004", "message": "Lead not found"}}})
			continue
		}
		result = append(result, map[string]any{"id": in.ID, "status": "updated"})
	}
	writeJSON(w, 200, success(result))
}

// paths lists "METHOD path" of the REST calls, in order.
func paths(calls []restCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Method + " " + c.Path
	}
	return out
}
