package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/config/configapi"
)

func newApplyCmd() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{
		Use:   "apply PATH...",
		Short: "Validate a whole configuration and swap it into the running hub (hot reload)",
		Long: "apply reads the files and folders (every *.yaml/*.yml below a folder) here, where the CLI runs,\n" +
			"and posts their contents to the hub, which validates the whole set exactly as at start.\n" +
			"On any error nothing changes, and each error is printed as file:line:col: message.\n" +
			"Otherwise connections, workflows, directories, surveys and schedules are swapped at once;\n" +
			"runs in flight finish on the version they started with.\n\n" +
			"apply changes the running hub only: it writes nothing to the hub's config folder. At its next\n" +
			"restart the hub loads the files on its disk (its --config paths), so put the same files there.\n" +
			"Pass the whole configuration, as the hub was started with: a connection or workflow left out\n" +
			"is removed. Settings changes are refused: they take effect only at a restart.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			srcs, err := config.ReadSources(paths)
			if err != nil {
				printErrorLines(cmd.ErrOrStderr(), config.FormatErrors(err))
				return errors.New("nothing was applied")
			}
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			req := configapi.ApplyRequest{Files: make([]configapi.File, len(srcs))}
			for i, s := range srcs {
				req.Files[i] = configapi.File{Name: s.Name, Content: string(s.Data)}
			}
			body, err := json.Marshal(req)
			if err != nil {
				return err
			}
			var res config.ApplyResult
			err = c.do(cmd.Context(), "POST", "/config/apply", nil, body, &res)
			var ce *callError
			if errors.As(err, &ce) && ce.Code == "invalid_config" {
				var d struct {
					Errors []string `json:"errors"`
				}
				if json.Unmarshal(ce.Details, &d) == nil {
					printErrorLines(cmd.ErrOrStderr(), strings.Join(d.Errors, "\n"))
				}
				return fmt.Errorf("%s", ce.Message)
			}
			if err != nil {
				return err
			}
			printApplied(cmd.OutOrStdout(), &res)
			return nil
		},
	}
	addClientFlags(cmd, &server, &token)
	return cmd
}

// printErrorLines prints each line of s ending in a newline.
func printErrorLines(w io.Writer, s string) {
	for line := range strings.SplitSeq(s, "\n") {
		if line != "" {
			fmt.Fprintln(w, line)
		}
	}
}

func printApplied(w io.Writer, res *config.ApplyResult) {
	v := res.Version
	if res.Unchanged {
		fmt.Fprintf(w, "unchanged: the hub already runs these files (config version %d, digest %s)\n", v.Counter, short(v.Digest))
		return
	}
	fmt.Fprintf(w, "applied config version %d (digest %s, %d file(s))\n", v.Counter, short(v.Digest), len(v.Files))
	for _, k := range []struct {
		kind string
		ch   config.Changes
	}{{"connections", res.Connections}, {"workflows", res.Workflows}, {"directories", res.Directories}, {"surveys", res.Surveys}} {
		if k.ch.Empty() {
			continue
		}
		var parts []string
		for _, p := range []struct {
			what  string
			names []string
		}{{"added", k.ch.Added}, {"changed", k.ch.Changed}, {"removed", k.ch.Removed}} {
			if len(p.names) > 0 {
				parts = append(parts, p.what+" "+strings.Join(p.names, ", "))
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", k.kind, strings.Join(parts, "; "))
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "%s (warning)\n", warn)
	}
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
