package server

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/pluginsdk"
)

// captureRequest runs toRequest on a request sent through a fiber app.
func captureRequest(t testing.TB, headers [][2]string) *pluginsdk.HTTPRequest {
	t.Helper()
	s := &Server{o: Options{PublicURL: "https://hub.example"}}
	var got *pluginsdk.HTTPRequest
	app := fiber.New()
	app.Post("/hooks/:connection/*", func(c *fiber.Ctx) error {
		got = s.toRequest(c)
		return nil
	})
	req := httptest.NewRequest("POST", "/hooks/in/x?a=1&a=2", strings.NewReader("{}"))
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return got
}

func TestToRequestHeaders(t *testing.T) {
	got := captureRequest(t, [][2]string{
		{"X-Api-Key", "k1"},
		{"Accept", "a/b"},
		{"X-Forwarded-For", "10.0.0.1"},
		{"X-Forwarded-For", "10.0.0.2"},
		{"Cookie", "c=1"},
		{"x-lower-case", "v"},
		{"X-Last", "z"},
	})
	for key, want := range map[string][]string{
		"X-Api-Key":       {"k1"},
		"Accept":          {"a/b"},
		"X-Forwarded-For": {"10.0.0.1", "10.0.0.2"},
		"X-Lower-Case":    {"v"},
		"X-Last":          {"z"},
		"Content-Type":    nil, // httptest sets none
	} {
		if !reflect.DeepEqual(got.Header[key], want) {
			t.Errorf("Header[%q] = %q, want %q", key, got.Header[key], want)
		}
	}
	if !reflect.DeepEqual(got.Query["a"], []string{"1", "2"}) || got.Path != "/x" {
		t.Errorf("query %v, path %q", got.Query, got.Path)
	}
	// A connector may append to a header's values; that must not change
	// another header.
	got.Header["X-Api-Key"] = append(got.Header["X-Api-Key"], "added")
	if !reflect.DeepEqual(got.Header["Accept"], []string{"a/b"}) {
		t.Errorf("appending to one header changed another: Accept = %q", got.Header["Accept"])
	}
}

// BenchmarkToRequest is the hook's copy of a push's headers and query for
// the connector.
func BenchmarkToRequest(b *testing.B) {
	s := &Server{o: Options{PublicURL: "https://hub.example"}}
	app := fiber.New()
	// The loop runs inside the handler, where fiber has routed the
	// request (toRequest reads the route's parameters).
	app.Post("/hooks/:connection/*", func(c *fiber.Ctx) error {
		b.ReportAllocs()
		for b.Loop() {
			if r := s.toRequest(c); len(r.Header) < 6 {
				b.Fatalf("headers %v", r.Header)
			}
		}
		return nil
	})
	req := httptest.NewRequest("POST", "/hooks/segment-in/", strings.NewReader("{}"))
	for _, h := range [][2]string{
		{"Content-Type", "application/json"}, {"X-Api-Key", "loadgen-key"}, {"User-Agent", "Go-http-client/1.1"},
		{"Accept-Encoding", "gzip"}, {"X-Request-Id", "0123456789"}, {"Traceparent", "00-abc-def-01"},
	} {
		req.Header.Add(h[0], h[1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
}
