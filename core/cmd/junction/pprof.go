package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofAddr resolves the --pprof address. A bare port (":6060" or "6060")
// binds loopback only: profiles show the hub's internals (goroutine stacks,
// the command line), so they reach another machine only when the operator
// names a non-loopback host on purpose.
func pprofAddr(flag string) (addr string, public bool, err error) {
	host, port, err := net.SplitHostPort(flag)
	if err != nil {
		// "6060" without a colon
		if _, perr := net.LookupPort("tcp", flag); perr == nil {
			return net.JoinHostPort("127.0.0.1", flag), false, nil
		}
		return "", false, fmt.Errorf("--pprof %q: want HOST:PORT or :PORT: %w", flag, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", false, fmt.Errorf("--pprof %q: bad port: %w", flag, err)
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), false, nil
	}
	if host == "localhost" {
		return net.JoinHostPort(host, port), false, nil
	}
	ip := net.ParseIP(host)
	return net.JoinHostPort(host, port), ip == nil || !ip.IsLoopback(), nil
}

// startPprof serves net/http/pprof on its own listener, never on the hub's
// public port, until ctx ends. It returns the address it listens on.
func startPprof(ctx context.Context, flag string, logger *slog.Logger) (net.Addr, error) {
	addr, public, err := pprofAddr(flag)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: listen %s: %w", addr, err)
	}
	// Its own mux: importing net/http/pprof registers on DefaultServeMux,
	// which nothing else in the hub serves.
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("pprof server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if public {
		logger.Warn("pprof is served on a non-loopback address; anyone who reaches it can read goroutine stacks and profiles", "addr", ln.Addr().String())
	} else {
		logger.Info("pprof serving", "addr", ln.Addr().String())
	}
	return ln.Addr(), nil
}
