package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofAddr(t *testing.T) {
	tests := []struct {
		flag   string
		addr   string
		public bool
		err    bool
	}{
		{":6060", "127.0.0.1:6060", false, false},
		{"6060", "127.0.0.1:6060", false, false},
		{"127.0.0.1:0", "127.0.0.1:0", false, false},
		{"localhost:6060", "localhost:6060", false, false},
		{"[::1]:6060", "[::1]:6060", false, false},
		{"0.0.0.0:6060", "0.0.0.0:6060", true, false},
		{"10.1.2.3:6060", "10.1.2.3:6060", true, false},
		{"db.internal:6060", "db.internal:6060", true, false},
		{"127.0.0.1:notaport", "", false, true},
		{"nonsense", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			addr, public, err := pprofAddr(tt.flag)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if addr != tt.addr || public != tt.public {
				t.Errorf("pprofAddr(%q) = %q, public %v; want %q, %v", tt.flag, addr, public, tt.addr, tt.public)
			}
		})
	}
}

func TestPprofServesOnItsOwnListener(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := startPprof(ctx, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("status %d, body %.200s", resp.StatusCode, body)
	}
	cancel()
}
