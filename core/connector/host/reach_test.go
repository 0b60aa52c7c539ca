package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReach(t *testing.T) {
	var hits int
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	t.Cleanup(srv.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	t.Cleanup(plain.Close)
	tests := []struct {
		name    string
		opts    HTTPOptions
		url     string
		refused bool
		cert    bool
		detail  string
	}{
		{name: "loopback refused", opts: HTTPOptions{}, url: plain.URL, refused: true},
		{name: "host not allowed", opts: HTTPOptions{AllowPrivate: true, AllowHosts: []string{"api.example.com"}}, url: plain.URL, refused: true},
		{name: "plain http", opts: HTTPOptions{AllowPrivate: true}, url: plain.URL, detail: "tcp 127.0.0.1:"},
		{name: "untrusted certificate", opts: HTTPOptions{AllowPrivate: true}, url: srv.URL, cert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewHTTPClient(tt.opts)
			defer c.CloseIdleConnections()
			detail, err := c.Reach(context.Background(), tt.url)
			switch {
			case tt.refused && !IsRefused(err):
				t.Fatalf("Reach: %v, want a refusal", err)
			case tt.cert && !IsCertificateError(err):
				t.Fatalf("Reach: %v, want a certificate error", err)
			case !tt.refused && !tt.cert && (err != nil || !strings.Contains(detail, tt.detail)):
				t.Fatalf("Reach: %q, %v; want %q", detail, err, tt.detail)
			}
		})
	}
	if hits != 0 {
		t.Errorf("Reach sent %d HTTP requests, want none", hits)
	}
}
