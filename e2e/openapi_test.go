package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Every /api/v1 response the suite receives is checked against the API's
// contract, core/openapi/openapi.yaml: in this process through
// http.DefaultTransport (TestMain wraps it, and the TLS hub's client wraps
// its own), and from the CLI's subprocesses through apiProxy, a validating
// reverse proxy in front of each hub. A response that does not match fails
// the request with an error, so the test that made it fails there; every
// mismatch is also kept, and TestMain fails the run if a test swallowed
// one.

var (
	specOnce      sync.Once
	specValidator validator.Validator
	specErr       error
	// specMu serializes validations: the validator caches compiled schemas
	// and the suite's requests come from many goroutines.
	specMu sync.Mutex

	mismatchMu sync.Mutex
	mismatches []string
)

func loadSpec() (validator.Validator, error) {
	specOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("..", "core", "openapi", "openapi.yaml"))
		if err != nil {
			specErr = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			specErr = fmt.Errorf("openapi.yaml: %w", err)
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			specErr = fmt.Errorf("openapi.yaml: %w", errors.Join(errs...))
			return
		}
		specValidator = v
	})
	return specValidator, specErr
}

func TestMain(m *testing.M) {
	if _, err := loadSpec(); err != nil {
		fmt.Fprintln(os.Stderr, "load the API contract:", err)
		os.Exit(1)
	}
	http.DefaultTransport = specTransport{base: http.DefaultTransport}
	code := m.Run()
	mismatchMu.Lock()
	if len(mismatches) > 0 {
		fmt.Fprintf(os.Stderr, "%d /api/v1 responses did not match core/openapi/openapi.yaml:\n%s\n", len(mismatches), strings.Join(mismatches, "\n"))
		code = 1
	}
	mismatchMu.Unlock()
	os.Exit(code)
}

// checkResponse validates resp (to req) against the contract when it is an
// /api/v1 response, and leaves resp readable as before. An event stream is
// checked by its status and headers only: reading it would wait for its
// end.
func checkResponse(req *http.Request, resp *http.Response) error {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return nil
	}
	v, err := loadSpec()
	if err != nil {
		return err
	}
	check := *resp
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		check.Body = io.NopCloser(strings.NewReader(""))
	} else {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		check.Body = io.NopCloser(bytes.NewReader(body))
	}
	specMu.Lock()
	ok, errs := v.ValidateHttpResponse(req, &check)
	specMu.Unlock()
	if ok {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s -> %d does not match core/openapi/openapi.yaml:", req.Method, req.URL.RequestURI(), resp.StatusCode)
	for _, e := range errs {
		fmt.Fprintf(&sb, "\n  %s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&sb, "\n    at %s: %s", s.FieldPath, s.Reason)
		}
	}
	msg := sb.String()
	mismatchMu.Lock()
	mismatches = append(mismatches, msg)
	mismatchMu.Unlock()
	return errors.New(msg)
}

// specTransport checks every /api/v1 response it carries.
type specTransport struct{ base http.RoundTripper }

func (s specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if err := checkResponse(req, resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (s specTransport) CloseIdleConnections() {
	if c, ok := s.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// apiProxy serves a validating reverse proxy to target on loopback, for
// the CLI's subprocesses: a response that does not match the contract
// becomes a 502 the CLI reports, and is kept for TestMain.
func apiProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport:      http.DefaultTransport.(specTransport).base,
		ModifyResponse: func(resp *http.Response) error { return checkResponse(resp.Request, resp) },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t.Errorf("through the contract proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestContractCheckFails: the check refuses a response of the wrong shape
// and an undocumented status, and passes a right one; a check that cannot
// fail would prove nothing about the suite.
func TestContractCheckFails(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		status int
		body   string
		ok     bool
	}{
		{"right", "/api/v1/runs", 200, `{"runs":[],"next":""}`, true},
		{"missing key", "/api/v1/runs", 200, `{"runs":[]}`, false},
		{"wrong type", "/api/v1/runs", 200, `{"runs":{},"next":""}`, false},
		{"error envelope", "/api/v1/runs/x", 404, `{"error":{"code":"not_found","message":"run \"x\" not found"}}`, true},
		{"bad envelope", "/api/v1/runs/x", 404, `{"error":"not found"}`, false},
		{"undocumented status", "/api/v1/runs/x", 418, `{"error":{"code":"teapot","message":"no"}}`, false},
		{"not the API", "/hooks/x", 200, `anything`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			before := len(mismatches)
			resp, err := http.Get(srv.URL + tt.path)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("GET %s answering %d %s: err %v, want ok=%v", tt.path, tt.status, tt.body, err, tt.ok)
			}
			// The mismatches this test provokes on purpose are not the
			// suite's.
			mismatchMu.Lock()
			mismatches = mismatches[:before]
			mismatchMu.Unlock()
		})
	}
}
