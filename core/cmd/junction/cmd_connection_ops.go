package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/pluginsdk"
)

// newConnectionOpsCmds returns the `junction connection` subcommands that
// operate on a running hub's connection: fetch, jobs, reconnect, stats and
// key. They use the --server and --token flags of their parent.
func newConnectionOpsCmds() []*cobra.Command {
	return []*cobra.Command{newFetchCmd(), newJobsCmd(), newReconnectCmd(), newStatsCmd(), newKeyCmd()}
}

// opsClient builds the API client from the parent's persistent flags.
func opsClient(cmd *cobra.Command) (*apiClient, error) {
	var server, token string
	if f := cmd.Flag("server"); f != nil {
		server = f.Value.String()
	}
	if f := cmd.Flag("token"); f != nil {
		token = f.Value.String()
	}
	if server == "" {
		server = envOr("JUNCTION_SERVER", "http://127.0.0.1:8080")
	}
	return newClient(server, token)
}

func connPath(name string, rest ...string) string {
	p := "/connections/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func newFetchCmd() *cobra.Command {
	var metadataOnly, detach bool
	var entities []string
	cmd := &cobra.Command{
		Use:   "fetch NAME",
		Short: "Start a fetch of a pull connection now and show its progress",
		Long: "Start a fetch job of the connection (as its schedule would) and follow it until it ends,\n" +
			"showing records, bytes and rate on a terminal, then a summary. Interrupting the command\n" +
			"does not stop the job. With --metadata-only, fetch only the entities and fields.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opsClient(cmd)
			if err != nil {
				return err
			}
			body, _ := json.Marshal(map[string]any{"metadataOnly": metadataOnly, "entities": entities})
			var res struct{ Job fetch.Job }
			err = c.do(cmd.Context(), "POST", connPath(args[0], "fetch"), nil, body, &res)
			if err != nil && strings.Contains(err.Error(), "already running") {
				// Follow the running job instead of failing.
				var jobs struct{ Jobs []fetch.Job }
				if lerr := c.do(cmd.Context(), "GET", connPath(args[0], "jobs"), url.Values{"limit": {"1"}}, nil, &jobs); lerr == nil && len(jobs.Jobs) == 1 && !jobs.Jobs[0].Done() {
					fmt.Fprintf(cmd.ErrOrStderr(), "a fetch of %s is already running (job %s); following it\n", args[0], jobs.Jobs[0].ID)
					res.Job, err = jobs.Jobs[0], nil
				}
			}
			if err != nil {
				return err
			}
			if detach {
				fmt.Fprintln(cmd.OutOrStdout(), res.Job.ID)
				return nil
			}
			return followJob(cmd.Context(), c, cmd.OutOrStdout(), cmd.ErrOrStderr(), res.Job)
		},
	}
	cmd.Flags().BoolVar(&metadataOnly, "metadata-only", false, "fetch only entities and fields, no records")
	cmd.Flags().StringSliceVar(&entities, "entity", nil, "fetch only this entity (repeatable; default: all)")
	cmd.Flags().BoolVar(&detach, "detach", false, "print the job ID and return at once")
	return cmd
}

// pollInterval is how often a followed job is read; the server saves a
// running job's progress about every 500 ms.
const pollInterval = 500 * time.Millisecond

// followJob polls a job until it ends, drawing a progress line on a
// terminal, then prints the summary. A failed job is an error (exit 1).
func followJob(ctx context.Context, c *apiClient, out, errOut io.Writer, job fetch.Job) error {
	tty := isTerminal(errOut)
	for !job.Done() {
		if tty {
			fmt.Fprintf(errOut, "\r\033[K%s", progressLine(job))
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(errOut)
			}
			fmt.Fprintf(errOut, "stopped following job %s; it goes on in the hub (junction connection jobs %s)\n", job.ID, job.Connection)
			return ctx.Err()
		case <-time.After(pollInterval):
		}
		var res struct{ Job fetch.Job }
		if err := c.do(ctx, "GET", connPath(job.Connection, "jobs", job.ID), nil, nil, &res); err != nil {
			return err
		}
		job = res.Job
	}
	if tty {
		fmt.Fprint(errOut, "\r\033[K")
	}
	fmt.Fprintln(out, summaryLine(job))
	if job.Status == fetch.StatusFailed {
		return fmt.Errorf("fetch job %s of %s failed: %s", job.ID, job.Connection, job.Error)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func progressLine(j fetch.Job) string {
	what := "fetching"
	if j.Entity != "" {
		what += " " + j.Entity
	}
	if j.MetadataOnly {
		what = "fetching metadata"
	}
	return fmt.Sprintf("%s: %s records, %s, %s records/s", what, groupDigits(j.Records), humanBytes(j.Bytes), groupDigits(int64(j.Rate)))
}

func summaryLine(j fetch.Job) string {
	d := j.Finished.Sub(j.Started).Round(time.Millisecond)
	if j.MetadataOnly {
		return fmt.Sprintf("job %s %s: metadata fetched in %s", j.ID, j.Status, d)
	}
	s := fmt.Sprintf("job %s %s: %s records", j.ID, j.Status, groupDigits(j.Records))
	if j.Duplicates > 0 {
		s += fmt.Sprintf(" (%s duplicates dropped)", groupDigits(j.Duplicates))
	}
	return s + fmt.Sprintf(", %s in %s (%s records/s)", humanBytes(j.Bytes), d, groupDigits(int64(j.Rate)))
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func humanBytes(n int64) string {
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

func newJobsCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs NAME",
		Short: "List a connection's fetch jobs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := opsClient(cmd)
			if err != nil {
				return err
			}
			var res struct{ Jobs []fetch.Job }
			if err := c.do(cmd.Context(), "GET", connPath(args[0], "jobs"), url.Values{"limit": {fmt.Sprint(limit)}}, nil, &res); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tTRIGGER\tSTARTED\tRECORDS\tBYTES\tERROR")
			for _, j := range res.Jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, j.Trigger, j.Started.Local().Format(time.DateTime), groupDigits(j.Records), humanBytes(j.Bytes), truncate(j.Error, 60))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many jobs")
	return cmd
}

func newReconnectCmd() *cobra.Command {
	var (
		typ, username, tokenURL, clientID, file string
		scopes                                  []string
	)
	cmd := &cobra.Command{
		Use:   "reconnect NAME",
		Short: "Replace a connection's credentials (cursors are kept)",
		Long: "Replace the credentials of a connection without losing its cursors. The secret (api_key\n" +
			"secret, basic password or oauth2 client secret) is read from standard input, or prompted\n" +
			"for without echo on a terminal; or give the whole auth object as JSON with --file.\n\n" +
			"  echo \"$NEW_KEY\" | junction connection reconnect sftp-in --type api_key\n" +
			"  junction connection reconnect marketo --type oauth2 --token-url https://…/identity/oauth/token --client-id ID",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var auth pluginsdk.Auth
			if file != "" {
				data, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(data, &auth); err != nil {
					return fmt.Errorf("%s: want an auth object {\"type\", \"secret\" | \"username\", \"password\" | \"tokenURL\", \"clientID\", \"clientSecret\", \"scopes\"}: %w", file, err)
				}
			} else {
				auth = pluginsdk.Auth{Type: pluginsdk.AuthType(typ), Username: username, TokenURL: tokenURL, ClientID: clientID, Scopes: scopes}
				prompt := map[pluginsdk.AuthType]string{pluginsdk.AuthAPIKey: "API key secret", pluginsdk.AuthBasic: "password", pluginsdk.AuthOAuth2: "client secret"}[auth.Type]
				if prompt == "" {
					return usageError{fmt.Errorf("--type %q: want api_key, basic or oauth2 (or give --file)", typ)}
				}
				secret, err := readSecret(cmd.InOrStdin(), cmd.ErrOrStderr(), prompt)
				if err != nil {
					return err
				}
				switch auth.Type {
				case pluginsdk.AuthAPIKey:
					auth.Secret = secret
				case pluginsdk.AuthBasic:
					auth.Password = secret
				case pluginsdk.AuthOAuth2:
					auth.ClientSecret = secret
				}
			}
			if err := fetch.ValidateAuth(auth); err != nil {
				return usageError{err}
			}
			c, err := opsClient(cmd)
			if err != nil {
				return err
			}
			body, _ := json.Marshal(auth)
			var res struct{ Applied bool }
			if err := c.do(cmd.Context(), "POST", connPath(args[0], "reconnect"), nil, body, &res); err != nil {
				return err
			}
			if res.Applied {
				fmt.Fprintf(cmd.OutOrStdout(), "credentials of %s replaced and applied; cursors kept\n", args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "credentials of %s stored; they apply at the next start of the hub; cursors kept\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "auth type: api_key, basic or oauth2")
	cmd.Flags().StringVar(&username, "username", "", "basic: user name")
	cmd.Flags().StringVar(&tokenURL, "token-url", "", "oauth2: token endpoint")
	cmd.Flags().StringVar(&clientID, "client-id", "", "oauth2: client ID")
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "oauth2: scope (repeatable)")
	cmd.Flags().StringVar(&file, "file", "", "JSON file with the whole auth object")
	return cmd
}

// readSecret reads one line: without echo from a terminal, else from in.
func readSecret(in io.Reader, errOut io.Writer, what string) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(errOut, "New %s: ", what)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(errOut)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from standard input: %w", what, err)
	}
	if s := strings.TrimSpace(line); s != "" {
		return s, nil
	}
	return "", usageError{fmt.Errorf("no %s on standard input", what)}
}

func newKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Show or rotate a connection's webhook API key"}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print the webhook API key (X-API-Key) of a connection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return keyOp(cmd, "GET", connPath(args[0], "key"))
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Make a new random webhook API key; it is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return keyOp(cmd, "POST", connPath(args[0], "key", "rotate"))
		},
	}
	cmd.AddCommand(show, rotate)
	return cmd
}

func keyOp(cmd *cobra.Command, method, path string) error {
	c, err := opsClient(cmd)
	if err != nil {
		return err
	}
	var res struct{ Key string }
	if err := c.do(cmd.Context(), method, path, nil, nil, &res); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), res.Key)
	return nil
}

func newStatsCmd() *cobra.Command {
	var entity, field string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats NAME",
		Short: "Show the data overview of a connection (--entity, --field for detail)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if field != "" && entity == "" {
				return usageError{errors.New("--field needs --entity")}
			}
			c, err := opsClient(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case field != "":
				var res struct{ Field stats.FieldStats }
				if err := c.do(cmd.Context(), "GET", connPath(args[0], "stats", "entities", entity, "fields", field), nil, nil, &res); err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, res.Field)
				}
				printField(out, res.Field)
			case entity != "":
				var res struct{ Entity stats.EntityStats }
				if err := c.do(cmd.Context(), "GET", connPath(args[0], "stats", "entities", entity), nil, nil, &res); err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, res.Entity)
				}
				printEntity(out, res.Entity)
			default:
				var res struct{ Stats stats.ConnectionStats }
				if err := c.do(cmd.Context(), "GET", connPath(args[0], "stats"), nil, nil, &res); err != nil {
					return err
				}
				if asJSON {
					return printJSON(out, res.Stats)
				}
				printConnectionStats(out, res.Stats)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&entity, "entity", "", "show one entity: its fields and metadata table")
	cmd.Flags().StringVar(&field, "field", "", "show one field of --entity with its top values")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func printConnectionStats(w io.Writer, s stats.ConnectionStats) {
	fmt.Fprintf(w, "Connection:    %s\n", s.Connection)
	fmt.Fprintf(w, "Connected at:  %s\n", when(s.ConnectedAt))
	fmt.Fprintf(w, "Last record:   %s\n", when(s.LastRecordAt))
	fmt.Fprintf(w, "Records:       %s in %d entities\n", groupDigits(s.TotalRecords), s.TotalEntities)
	fmt.Fprintf(w, "Data quality:  %.1f%% (%.1f%% null values)\n", s.DataQuality, s.NullPct)
	fmt.Fprint(w, "Last 7 days:  ")
	for _, d := range s.Daily {
		fmt.Fprintf(w, " %s:%s", d.Date[5:], groupDigits(d.Records))
	}
	fmt.Fprintln(w)
	if len(s.Entities) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTITY\tROWS\tFIELDS\tQUALITY\tNULL VALUES\tCREATED\tUPDATED")
	for _, e := range s.Entities {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f%%\t%s\t%s\t%s\n", e.Name, groupDigits(e.Rows), e.Fields, e.DataQuality, groupDigits(e.NullValues), when(e.Created), when(e.Updated))
	}
	tw.Flush()
}

func printEntity(w io.Writer, e stats.EntityStats) {
	fmt.Fprintf(w, "Entity %s of %s: %s rows, data quality %.1f%% (%s null values), created %s, updated %s\n\n",
		e.Name, e.Connection, groupDigits(e.Rows), e.DataQuality, groupDigits(e.NullValues), when(e.Created), when(e.Updated))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tROWS\tVALUES\tNULL %\tUPDATED")
	for _, f := range e.FieldList {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%s\n", f.Name, f.Type, groupDigits(f.Rows), groupDigits(f.Values), f.NullPct, when(f.Updated))
	}
	tw.Flush()
	if len(e.Metadata) == 0 {
		return
	}
	fmt.Fprintln(w, "\nMetadata:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tAPI LABEL\tTYPE\tREQUIRED\tREAD-ONLY")
	for _, m := range e.Metadata {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%v\n", m.Name, m.DisplayName, m.APILabel, m.Type, m.Required, m.ReadOnly)
	}
	tw.Flush()
}

func printField(w io.Writer, f stats.FieldStats) {
	fmt.Fprintf(w, "Field %s of %s/%s: type %s, %s rows, %s values, %s null (%.1f%%), updated %s\n",
		f.Name, f.Connection, f.Entity, f.Type, groupDigits(f.Rows), groupDigits(f.Values), groupDigits(f.NullValues), f.NullPct, when(f.Updated))
	if len(f.Top) == 0 {
		return
	}
	note := "exact"
	if !f.TopExact {
		note = "estimated: each count is at most ERROR too high"
	}
	fmt.Fprintf(w, "\nTop values (%s):\n", note)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VALUE\tCOUNT\tERROR")
	for _, v := range f.Top {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", truncate(v.Value, 60), groupDigits(v.Count), groupDigits(v.Error))
	}
	tw.Flush()
}
