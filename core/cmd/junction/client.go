package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// apiClient talks to a running hub's admin API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func addClientFlags(cmd *cobra.Command, server, token *string) {
	cmd.PersistentFlags().StringVar(server, "server", envOr("JUNCTION_SERVER", "http://127.0.0.1:8080"), "URL of the running hub (env JUNCTION_SERVER)")
	cmd.PersistentFlags().StringVar(token, "token", "", "admin token (default: env JUNCTION_ADMIN_TOKEN)")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func newClient(server, token string) (*apiClient, error) {
	if token == "" {
		token = os.Getenv("JUNCTION_ADMIN_TOKEN")
	}
	if token == "" {
		return nil, fmt.Errorf("no admin token: set JUNCTION_ADMIN_TOKEN (printed by the first `junction up`) or pass --token")
	}
	return &apiClient{base: strings.TrimSuffix(server, "/"), token: token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// apiErr is the API's error body.
type apiErr struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details,omitempty"`
	} `json:"error"`
}

// callError is an error answer of the API; it reads as its message, and
// keeps the code and details for commands that show more.
type callError struct {
	Status  int
	Code    string
	Message string
	Details json.RawMessage
}

func (e *callError) Error() string { return e.Message }

func (c *apiClient) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	data, err := c.doRaw(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode response of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// doRaw calls the API and returns the body of a successful answer as
// received (see rawjson.go for why some callers need it so).
func (c *apiClient) doRaw(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	u := c.base + "/api/v1" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach junction at %s (start it with `junction up`, or pass --server): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e apiErr
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return nil, &callError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Details: e.Error.Details}
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return data, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
