package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// hookError is a refusal of an inbound push, rendered in the API's error
// shape with the metric reason Code.
type hookError struct {
	Status  int
	Code    string
	Message string
}

func (e *hookError) Error() string { return e.Message }

// errBodyTooLarge is what capRead returns past the cap.
var errBodyTooLarge = errors.New("body too large")

// decodeBody returns the body a connector sees: raw itself (copied: the
// buffer belongs to fasthttp, which reuses it after the handler returns),
// or raw decompressed when its Content-Encoding is one the connector
// declared. fiber's c.Body() would decompress any number of layers, all
// of them in memory, before anyone had checked anything; here at most one
// gzip layer is undone, as a stream, and reading stops the moment the
// result passes limit bytes, so a request never costs more than limit.
func decodeBody(raw []byte, header map[string][]string, accepted []string, limit int64) ([]byte, error) {
	codings := contentCodings(header["Content-Encoding"])
	if len(codings) == 0 {
		return append([]byte(nil), raw...), nil
	}
	if len(codings) > 1 {
		return nil, &hookError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_encoding", Message: fmt.Sprintf(
			"Content-Encoding %q stacks %d encodings; send the body uncompressed%s", strings.Join(codings, ", "), len(codings), acceptedList(accepted))}
	}
	coding := codings[0]
	if coding == "x-gzip" { // RFC 9110 8.4.1.3: a recipient should treat it as gzip
		coding = pluginsdk.EncodingGzip
	}
	if coding != pluginsdk.EncodingGzip || !slices.Contains(accepted, pluginsdk.EncodingGzip) {
		return nil, &hookError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_encoding", Message: fmt.Sprintf(
			"Content-Encoding %q is not accepted by this connection; send the body uncompressed%s", codings[0], acceptedList(accepted))}
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &hookError{Status: http.StatusBadRequest, Code: "bad_encoding", Message: fmt.Sprintf("the body is not valid gzip: %v", err)}
	}
	body, err := capRead(zr, limit, 4*len(raw))
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, &hookError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf(
			"the decompressed body is larger than the limit of %d bytes (max_body_bytes)", limit)}
	case err != nil:
		return nil, &hookError{Status: http.StatusBadRequest, Code: "bad_encoding", Message: fmt.Sprintf("the body is not valid gzip: %v", err)}
	}
	return body, nil
}

// contentCodings lists the codings of Content-Encoding header values in
// the order applied, lower case, without identity.
func contentCodings(values []string) []string {
	var out []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				out = append(out, c)
			}
		}
	}
	return out
}

// acceptedList completes "send the body uncompressed" with what the
// connector declared.
func acceptedList(accepted []string) string {
	if slices.Contains(accepted, pluginsdk.EncodingGzip) {
		return " or gzip-compressed once"
	}
	return ""
}

// capRead reads r to the end into a buffer that never grows past limit+1
// bytes: it reads at most limit+1 bytes, and one byte past limit is
// errBodyTooLarge. hint sizes the first allocation.
func capRead(r io.Reader, limit int64, hint int) ([]byte, error) {
	lr := io.LimitReader(r, limit+1)
	buf := make([]byte, 0, int(min(limit+1, int64(max(hint, 512)))))
	for {
		if len(buf) == cap(buf) {
			// Double, but never past max+1: growth is where a bomb would
			// otherwise cost twice the limit.
			next := make([]byte, len(buf), int(min(2*int64(cap(buf)), limit+1)))
			copy(next, buf)
			buf = next
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
