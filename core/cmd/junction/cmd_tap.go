package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newTapCmd() *cobra.Command {
	var server, token, workflow string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tap CONNECTION | tap --workflow W",
		Short: "Watch a connection's events, or a workflow's runs, live",
		Long: `Streams events as they are logged on a connection, and the runs they
start as they finish; with --workflow, the workflow's runs and the events
of its trigger connection. Nothing is replayed. Ctrl-C stops. If the hub
drops the tap because this terminal fell behind, or shuts down, tap says
why and exits 1.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			switch {
			case len(args) == 1 && workflow != "":
				return usageError{errors.New("tap: give a CONNECTION or --workflow, not both")}
			case len(args) == 1:
				q.Set("connection", args[0])
			case workflow != "":
				q.Set("workflow", workflow)
			default:
				return usageError{errors.New("tap: give a CONNECTION or --workflow W")}
			}
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			return c.tap(cmd.Context(), q, tapPrinter{out: cmd.OutOrStdout(), status: cmd.ErrOrStderr(), json: asJSON})
		},
	}
	addClientFlags(cmd, &server, &token)
	cmd.Flags().StringVar(&workflow, "workflow", "", "watch this workflow's runs (and its trigger's events)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print one JSON object a line: {"kind": "event"|"run", "data": ...}`)
	return cmd
}

// tap reads GET /api/v1/tap until ctx ends (nil) or the hub ends the
// stream (an error saying why).
func (c *apiClient) tap(ctx context.Context, q url.Values, p tapPrinter) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/tap?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	// No client timeout: the stream lasts as long as the operator watches.
	hc := &http.Client{Transport: c.http.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach junction at %s (start it with `junction up`, or pass --server): %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e apiErr
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return errors.New(e.Error.Message)
		}
		return fmt.Errorf("GET /api/v1/tap: %s", resp.Status)
	}
	err = readSSE(resp.Body, p.handle)
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	if err != nil {
		return err
	}
	return errors.New("the hub ended the stream")
}

// readSSE calls handle with each event's name and data until the stream
// ends or handle returns an error.
func readSSE(r io.Reader, handle func(event string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	// An event carries one payload, which the hub caps (max_body_bytes).
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var event string
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if event != "" || data != nil {
				if err := handle(event, data); err != nil {
					return err
				}
			}
			event, data = "", nil
		case line[0] == ':': // a comment: keep-alive
		default:
			k, v, _ := strings.Cut(string(line), ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "event":
				event = v
			case "data":
				if data != nil {
					data = append(data, '\n')
				}
				data = append(data, v...)
			}
		}
	}
	return sc.Err()
}

// tapPrinter writes what the tap shows: one line per event or run.
type tapPrinter struct {
	out, status io.Writer
	json        bool
}

func (p tapPrinter) handle(event string, data []byte) error {
	switch event {
	case "ready":
		var r struct{ Connection, Workflow string }
		_ = json.Unmarshal(data, &r)
		what := "connection " + r.Connection
		if r.Workflow != "" {
			what = "workflow " + r.Workflow
		}
		fmt.Fprintf(p.status, "watching %s (Ctrl-C to stop)\n", what)
		return nil
	case "dropped":
		var d struct{ Reason string }
		_ = json.Unmarshal(data, &d)
		return fmt.Errorf("tap ended by the hub: %s", d.Reason)
	case "event", "run":
	default:
		return nil // a kind this CLI does not know yet
	}
	if p.json {
		_, err := fmt.Fprintf(p.out, "{\"kind\":%q,\"data\":%s}\n", event, data)
		return err
	}
	if event == "event" {
		var e struct {
			ID, Type   string
			ReceivedAt time.Time
			Payload    json.RawMessage
		}
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("tap: decode event: %w", err)
		}
		id := e.ID
		if id == "" {
			id = "(fetched)"
		}
		typ := ""
		if e.Type != "" {
			typ = " " + e.Type
		}
		_, err := fmt.Fprintf(p.out, "%s event %s%s %s\n", e.ReceivedAt.Format(time.RFC3339), id, typ, e.Payload)
		return err
	}
	var r struct {
		ID, Workflow, Status, Error, EventID string
		FinishedAt                           time.Time
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("tap: decode run: %w", err)
	}
	line := fmt.Sprintf("%s run   %s %s %s", r.FinishedAt.Format(time.RFC3339), r.ID, r.Workflow, r.Status)
	if r.EventID != "" {
		line += " (event " + r.EventID + ")"
	}
	if r.Error != "" {
		line += ": " + r.Error
	}
	_, err := fmt.Fprintln(p.out, line)
	return err
}
