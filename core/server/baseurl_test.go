package server

import (
	"io"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestRequestBase: the URL handed to connectors believes X-Forwarded-*
// only from a trusted proxy, and prefers the configured public URL.
func TestRequestBase(t *testing.T) {
	// fiber's app.Test connects from 0.0.0.0.
	trusted := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}
	tests := []struct {
		name    string
		public  string
		trusted []netip.Prefix
		host    string
		header  map[string]string
		want    string
	}{
		{"host header", "", nil, "hub.test:8080", nil, "http://hub.test:8080"},
		{"forwarded from anyone is ignored", "", nil, "hub.test", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test"}, "http://hub.test"},
		{"forwarded from a trusted proxy", "", trusted, "10.0.0.5:8080", map[string]string{"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "hub.example.com"}, "https://hub.example.com"},
		{"odd forwarded values are ignored", "", trusted, "hub.test", map[string]string{"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "a.test/path"}, "http://hub.test"},
		{"public URL wins", "https://hub.example.com/j/", trusted, "hub.test", map[string]string{"X-Forwarded-Host": "other.test"}, "https://hub.example.com/j"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{o: Options{PublicURL: tc.public, TrustedProxies: tc.trusted}}
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(s.requestBase(c)) })
			req := httptest.NewRequest("GET", "/", nil)
			req.Host = tc.host
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tc.want {
				t.Errorf("got %q, want %q", b, tc.want)
			}
		})
	}
}
