package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newRunsCmd() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{Use: "runs", Short: "Run history: status, input payload, each task's output or error"}
	addClientFlags(cmd, &server, &token)
	var workflow, status, since string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"workflow": workflow, "status": status, "since": since} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", strconv.Itoa(limit))
			data, err := c.doRaw(cmd.Context(), "GET", "/runs", q, nil)
			if err != nil {
				return err
			}
			if asJSON {
				return printRawJSON(cmd.OutOrStdout(), data)
			}
			runs, err := decodeRunRows(data)
			if err != nil {
				return fmt.Errorf("decode response of GET /runs: %w", err)
			}
			printRuns(cmd.OutOrStdout(), runs)
			return nil
		},
	}
	list.Flags().StringVar(&workflow, "workflow", "", "only runs of this workflow")
	list.Flags().StringVar(&status, "status", "", "only runs with this status (queued, running, completed, failed, retrying)")
	list.Flags().StringVar(&since, "since", "", "only runs created since (RFC 3339 time or a duration such as 24h)")
	list.Flags().IntVar(&limit, "limit", 50, "at most this many runs")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one run with its input payload and each task's input, output or error",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			data, err := c.doRaw(cmd.Context(), "GET", "/runs/"+url.PathEscape(args[0]), nil, nil)
			if err != nil {
				return err
			}
			run, ok, err := rawMember(data, "run")
			if err != nil || !ok {
				return fmt.Errorf("decode response of GET /runs/%s: no run in it (%v)", args[0], err)
			}
			return printRawJSON(cmd.OutOrStdout(), run)
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

// runRow is what `runs list` shows of a run: never its payloads.
type runRow struct {
	ID        string    `json:"id"`
	Workflow  string    `json:"workflow"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	Error     string    `json:"error"`
}

// decodeRunRows reads the runs of a /runs answer, skipping their payloads
// (see rawjson.go).
func decodeRunRows(data []byte) ([]runRow, error) {
	list, ok, err := rawMember(data, "runs")
	if err != nil || !ok {
		return nil, fmt.Errorf("no runs list: %v", err)
	}
	elems, err := rawElements(list)
	if err != nil {
		return nil, err
	}
	rows := make([]runRow, len(elems))
	for i, e := range elems {
		if err := decodeShallow(e, &rows[i], "id", "workflow", "status", "createdAt", "error"); err != nil {
			return nil, fmt.Errorf("run %d: %w", i, err)
		}
	}
	return rows, nil
}

// decodeRunMember reads the shallow fields of the "run" of an answer.
func decodeRunMember(data []byte, run *runRow) error {
	raw, ok, err := rawMember(data, "run")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no run in the answer")
	}
	return decodeShallow(raw, run, "id", "workflow", "status", "createdAt", "error")
}

func printRuns(w io.Writer, runs []runRow) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tCREATED\tERROR")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, r.Status, r.CreatedAt.Local().Format(time.DateTime), truncate(r.Error, 100))
	}
	tw.Flush()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func newReplayCmd() *cobra.Command {
	var server, token, workflow string
	var deadLetter bool
	cmd := &cobra.Command{
		Use:   "replay --dead-letter [--workflow W] | replay RUN_ID",
		Short: "Re-run dead-lettered runs, or one run",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if deadLetter == (len(args) == 1) {
				return usageError{fmt.Errorf("replay: pass either --dead-letter or one run ID")}
			}
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				data, err := c.doRaw(cmd.Context(), "POST", "/runs/"+url.PathEscape(args[0])+"/replay", nil, nil)
				if err != nil {
					return err
				}
				var run runRow
				if err := decodeRunMember(data, &run); err != nil {
					return fmt.Errorf("decode response of POST /runs/%s/replay: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "replaying %s as %s\n", args[0], run.ID)
				return nil
			}
			q := url.Values{}
			if workflow != "" {
				q.Set("workflow", workflow)
			}
			fmt.Fprintln(os.Stderr, "replaying dead-lettered runs…")
			var res struct {
				Replayed int      `json:"replayed"`
				Runs     []string `json:"runs"`
			}
			if err := c.do(cmd.Context(), "POST", "/dead-letters/replay", q, nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed %d dead-lettered run(s)\n", res.Replayed)
			for _, id := range res.Runs {
				fmt.Fprintln(cmd.OutOrStdout(), "  new run", id)
			}
			return nil
		},
	}
	addClientFlags(cmd, &server, &token)
	cmd.Flags().BoolVar(&deadLetter, "dead-letter", false, "replay every dead-lettered run")
	cmd.Flags().StringVar(&workflow, "workflow", "", "with --dead-letter: only this workflow's")
	return cmd
}
