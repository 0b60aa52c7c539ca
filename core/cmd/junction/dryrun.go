package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// dryRunResult is the API's answer to POST /workflows/{name}/run?dryRun=true.
type dryRunResult struct {
	DryRun struct {
		Workflow string         `json:"workflow"`
		Matched  bool           `json:"matched"`
		Fields   map[string]any `json:"fields"`
		Error    string         `json:"error"`
		Tasks    []struct {
			Name   string          `json:"name"`
			Uses   string          `json:"uses"`
			Status string          `json:"status"`
			Input  json.RawMessage `json:"input"`
			Note   string          `json:"note"`
			Error  string          `json:"error"`
		} `json:"tasks"`
	} `json:"dryRun"`
}

// printDryRun asks the hub for a dry run and prints it for a person: what
// each task would receive, and that nothing was performed.
func printDryRun(cmd *cobra.Command, c *apiClient, name string, payload []byte) error {
	var res dryRunResult
	q := url.Values{"dryRun": {"true"}}
	if err := c.do(cmd.Context(), "POST", "/workflows/"+url.PathEscape(name)+"/run", q, payload, &res); err != nil {
		return err
	}
	d := res.DryRun
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "dry run of %s: nothing was performed and no run was stored\n", d.Workflow)
	if !d.Matched {
		fmt.Fprintf(w, "filter: %s\n", d.Error)
		return nil
	}
	fmt.Fprintln(w, "fields:")
	if err := printIndented(w, d.Fields); err != nil {
		return err
	}
	if d.Error != "" {
		return fmt.Errorf("dry run of %s: %s", d.Workflow, d.Error)
	}
	failed := 0
	for _, t := range d.Tasks {
		fmt.Fprintf(w, "task %s (%s): %s\n", t.Name, t.Uses, strings.ReplaceAll(t.Status, "_", " "))
		switch {
		case t.Error != "":
			failed++
			fmt.Fprintf(w, "  error: %s\n", t.Error)
		case t.Note != "":
			fmt.Fprintf(w, "  %s\n", t.Note)
		}
		if len(t.Input) > 0 {
			var v any
			if err := json.Unmarshal(t.Input, &v); err != nil {
				return fmt.Errorf("decode task %s input: %w", t.Name, err)
			}
			fmt.Fprintln(w, "  input:")
			if err := printIndented(w, v); err != nil {
				return err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("dry run of %s: %d task(s) could not be rendered", d.Workflow, failed)
	}
	return nil
}

// printIndented prints v as indented JSON under a heading.
func printIndented(w io.Writer, v any) error {
	var b strings.Builder
	if err := printJSON(&b, v); err != nil {
		return err
	}
	for line := range strings.SplitSeq(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
	return nil
}
