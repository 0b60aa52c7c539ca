// Package twiliotest runs a loopback server that speaks the part of
// Twilio's Messages API the twilio connector uses, for tests: it checks
// basic auth and the form, records each message, and answers as Twilio
// does (201 with the message, or Twilio's error JSON).
package twiliotest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted, or refused with an error.
type Message struct {
	To, From, Body, MessagingServiceSid, StatusCallback string
	// Form is the whole posted form.
	Form url.Values
	// SID is the sid answered (empty when the request was refused).
	SID string
}

// Error is a Twilio error answer.
type Error struct {
	Status  int
	Code    int
	Message string
}

// Server is a running fake Messages API.
type Server struct {
	// URL is the base URL to give the connector as config.base_url.
	URL        string
	AccountSID string
	AuthToken  string

	srv *httptest.Server

	mu       sync.Mutex
	errors   map[string]Error // by To
	messages []Message
	requests int
	seq      int
}

// NewServer starts a server for the account and stops it when the test
// ends.
func NewServer(t testing.TB, accountSID, authToken string) *Server {
	t.Helper()
	s := &Server{AccountSID: accountSID, AuthToken: authToken, errors: map[string]Error{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// FailTo makes messages to the number fail with e.
func (s *Server) FailTo(to string, e Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors[to] = e
}

// Succeed undoes FailTo: messages to the number are accepted again.
func (s *Server) Succeed(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.errors, to)
}

// Messages returns the messages posted so far, accepted or not.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests counts every request, including refused ones.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	path := "/2010-04-01/Accounts/" + s.AccountSID + "/Messages.json"
	if r.Method != http.MethodPost || r.URL.Path != path {
		writeError(w, Error{Status: 404, Code: 20404, Message: fmt.Sprintf("The requested resource %s was not found", r.URL.Path)})
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.AccountSID)) != 1 || subtle.ConstantTimeCompare([]byte(pass), []byte(s.AuthToken)) != 1 {
		writeError(w, Error{Status: 401, Code: 20003, Message: "Authenticate"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeError(w, Error{Status: 400, Code: 20001, Message: "Content-Type " + ct + " is not a form"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, Error{Status: 400, Code: 20001, Message: err.Error()})
		return
	}
	m := Message{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"),
		MessagingServiceSid: r.PostForm.Get("MessagingServiceSid"), StatusCallback: r.PostForm.Get("StatusCallback"), Form: r.PostForm}
	s.mu.Lock()
	e, fail := s.errors[m.To]
	if !fail {
		s.seq++
		m.SID = fmt.Sprintf("SM%032x", s.seq)
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	switch {
	case fail:
		writeError(w, e)
	case m.To == "":
		writeError(w, Error{Status: 400, Code: 21604, Message: "A 'To' phone number is required."})
	case m.Body == "":
		writeError(w, Error{Status: 400, Code: 21602, Message: "Message body is required."})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": m.SID, "account_sid": s.AccountSID, "to": m.To, "from": m.From, "body": m.Body,
			"status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
			"date_created": time.Now().UTC().Format(time.RFC1123Z), "error_code": nil, "error_message": nil,
			"uri": strings.TrimSuffix(path, ".json") + "/" + m.SID + ".json",
		})
	}
}

func writeError(w http.ResponseWriter, e Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": e.Code, "message": e.Message, "status": e.Status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code),
	})
}
