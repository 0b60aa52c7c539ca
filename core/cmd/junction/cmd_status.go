package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/store/storeapi"
)

func newStatusCmd() *cobra.Command {
	var server, token string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show disk use, what the store holds, and retention",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			var st storeapi.Status
			if err := c.do(cmd.Context(), "GET", "/status", nil, nil, &st); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			printStatus(cmd.OutOrStdout(), st, time.Now())
			return nil
		},
	}
	addClientFlags(cmd, &server, &token)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func printStatus(w io.Writer, st storeapi.Status, now time.Time) {
	d := st.Store.Disk
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-12s %s\n", k, fmt.Sprintf(format, a...)) }
	row("data dir", "%s", st.DataDir)
	row("disk", "%s (tables %s, value log %s, memtable logs %s); %s free",
		bytesIEC(d.DataBytes), bytesIEC(d.LSMBytes), bytesIEC(d.ValueLogBytes), bytesIEC(d.WALBytes), bytesIEC(d.FreeBytes))
	if st.Writable {
		row("writes", "accepted")
	} else {
		row("writes", "REFUSED (pushes get 503): %s", st.Store.WriteError)
	}
	ev := st.Store.Events
	if ev.Oldest != nil {
		row("events", "%d retained; oldest %s received %s (%s ago); %d not yet dispatched",
			ev.Count, ev.Oldest.ID, ev.Oldest.ReceivedAt.Format(time.RFC3339), now.Sub(ev.Oldest.ReceivedAt).Round(time.Second), st.LogLag)
	} else {
		row("events", "none retained")
	}
	var runs []string
	for s, n := range st.Store.Runs {
		if n > 0 {
			runs = append(runs, fmt.Sprintf("%s %d", s, n))
		}
	}
	sort.Strings(runs)
	if len(runs) == 0 {
		runs = []string{"none"}
	}
	row("runs", "%s; dead letters %d", strings.Join(runs, ", "), st.Store.DeadLetters)
	row("dedup keys", "%d in open windows", st.Store.DedupKeys)
	r := st.Retention
	maxData := "no cap"
	if r.MaxDataBytes > 0 {
		maxData = bytesIEC(r.MaxDataBytes)
	}
	row("retention", "events %s, runs %s, dead letters %s; data dir %s; keeps %s free",
		r.Events, r.Runs, r.DeadLetters, maxData, bytesIEC(r.MinFreeBytes))
	if s := st.LastSweep; s != nil {
		msg := fmt.Sprintf("%s: removed %d events, %d runs (%s)", s.At.Format(time.RFC3339), s.Events, s.Runs, bytesIEC(s.Bytes))
		if s.Compacted {
			msg += ", compacted"
		}
		if s.Error != "" {
			msg += "; error: " + s.Error
		}
		row("last sweep", "%s", msg)
	}
}

func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
