package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// bombResult is what one hostile request did to the hub.
type bombResult struct {
	size       int // bytes on the wire
	status     int
	err        error
	took       time.Duration
	rssBefore  int64 // KiB
	rssPeak    int64 // KiB, the highest sampled in the watch window
	rssAfter   int64 // KiB, at the end of the watch window
	underAfter time.Duration
	watch      time.Duration
}

// gzipBomb is n zero bytes gzipped once: about n/1000 bytes on the wire.
// The connection declares gzip, so the hub decompresses it (as a stream,
// under max_body_bytes) and refuses it with 413: the bomb exercises the
// bounded decompression, not only the early refusals (a stacked encoding
// or a missing credential is refused before any body work).
func gzipBomb(n int64) ([]byte, error) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := io.CopyN(zw, zeros{}, n); err != nil {
		return nil, fmt.Errorf("gzip bomb: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip bomb: %w", err)
	}
	return b.Bytes(), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// bomb posts a gzip bomb with the connection's API key to url, then watches the hub's
// RSS for watch, noting when it is back under limitKB.
func bomb(ctx context.Context, url string, rss *rssSampler, watch time.Duration, limitKB int64) bombResult {
	r := bombResult{watch: watch, rssBefore: rss.sample(), underAfter: -1}
	body, err := gzipBomb(1 << 30)
	if err != nil {
		r.err = err
		return r
	}
	r.size = len(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-API-Key", apiKey)
	start := time.Now()
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	r.took = time.Since(start)
	if err != nil {
		r.err = err
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.status = resp.StatusCode
	}
	for t := time.Now(); time.Since(t) < watch && ctx.Err() == nil; time.Sleep(250 * time.Millisecond) {
		kb := rss.sample()
		r.rssPeak = max(r.rssPeak, kb)
		if kb < limitKB && r.underAfter < 0 {
			r.underAfter = time.Since(start)
		}
	}
	r.rssAfter = rss.sample()
	return r
}

func (r bombResult) print(w io.Writer) {
	if r.err != nil && r.status == 0 {
		fmt.Fprintf(w, "gzip bomb      %d bytes: %v after %s\n", r.size, r.err, r.took.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "gzip bomb      %d bytes (1 GiB inflated, gzip, with the API key): HTTP %d in %s\n", r.size, r.status, r.took.Round(time.Millisecond))
	}
	under := "never within the watch"
	if r.underAfter >= 0 {
		under = fmt.Sprintf("%s after the post", r.underAfter.Round(250*time.Millisecond))
	}
	fmt.Fprintf(w, "bomb RSS       before %s, peak sampled %s, after %s %s; under 256 MiB: %s\n",
		mib(r.rssBefore), mib(r.rssPeak), r.watch, mib(r.rssAfter), under)
}
