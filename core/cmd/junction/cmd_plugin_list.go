package main

import (
	"errors"
	"fmt"
	"io"
	"net"

	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// listedPlugin is one row of `junction plugin list`: an installed plugin in
// one form, with the connections using it when the hub said so.
type listedPlugin struct {
	registry.Plugin
	UsedBy []string `json:"usedBy"`
}

// newPluginListCmd is `junction plugin list`. Like the other commands that
// read state, it asks the running hub (GET /api/v1/plugins), which also
// knows which connections use each plugin. Without a token, or when no hub
// answers at --server, it reads the data directory itself; it says on
// stderr which it did, so a stale local view is never mistaken for the
// hub's. --local (or --data) reads the data directory without asking.
func newPluginListCmd() *cobra.Command {
	var f pluginFlags
	var server, token string
	var local, asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List installed plugins, one row per form (from the running hub, else the data directory)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !local && !cmd.Flags().Changed("data") {
				ps, reachable, err := listFromHub(cmd, server, token)
				if reachable {
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "plugins installed in the hub at %s\n", server)
					return printPluginList(cmd.OutOrStdout(), ps, true, asJSON)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "no hub asked (%v); reading the data directory instead\n", err)
			}
			r, err := f.view(cmd)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "plugins installed in %s (read locally; connections using them are known only to the hub)\n", r.Dir())
			var ps []listedPlugin
			for _, p := range r.List() {
				ps = append(ps, listedPlugin{Plugin: *p})
			}
			return printPluginList(cmd.OutOrStdout(), ps, false, asJSON)
		},
	}
	f.register(cmd)
	addClientFlags(cmd, &server, &token)
	cmd.Flags().BoolVar(&local, "local", false, "read the data directory, without asking the hub")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// view is open without writing: listing creates no directory and moves no
// old-layout install (the hub does that when it starts).
func (f *pluginFlags) view(cmd *cobra.Command) (*registry.Registry, error) {
	s, err := f.settings(cmd)
	if err != nil {
		return nil, err
	}
	dir := f.dataDir
	if dir == "" {
		dir = s.DataDir
	}
	return registry.View(dir), nil
}

// listFromHub asks the hub. reachable is false when there is no token or
// nothing answers at server (then the caller reads the data directory);
// an answer from the hub, even an error such as a wrong token, is
// reachable, so it is reported instead of silently read around.
func listFromHub(cmd *cobra.Command, server, token string) (ps []listedPlugin, reachable bool, err error) {
	c, err := newClient(server, token)
	if err != nil {
		return nil, false, err
	}
	var out struct {
		Plugins []listedPlugin `json:"plugins"`
		// Refused: on a cluster, plugins other nodes shared that this
		// node's checks refused (pluginsync).
		Refused []struct{ ID, Error string } `json:"refused"`
	}
	err = c.do(cmd.Context(), "GET", "/plugins", nil, nil, &out)
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return nil, false, fmt.Errorf("no hub at %s", server)
	}
	for _, r := range out.Refused {
		fmt.Fprintf(cmd.ErrOrStderr(), "refused %s, shared by another node: %s\n", r.ID, r.Error)
	}
	return out.Plugins, true, err
}

func printPluginList(w io.Writer, ps []listedPlugin, usedBy, asJSON bool) error {
	if asJSON {
		if ps == nil {
			ps = []listedPlugin{}
		}
		return printJSON(w, ps)
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintln(w, "no plugins installed")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "NAME\tVERSION\tFORM\tCAPABILITIES\tINSTALLED AT\tSOURCE"
	if usedBy {
		head += "\tUSED BY"
	}
	fmt.Fprintln(tw, head)
	for _, p := range ps {
		source := "unsigned"
		switch {
		case p.Bundled:
			source = "bundled"
		case p.SignedBy != "":
			source = "signed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", p.Manifest.Name, p.Manifest.Version, p.Manifest.Kind,
			p.Granted, p.InstalledAt.Local().Format("2006-01-02 15:04:05"), source)
		if usedBy {
			used := strings.Join(p.UsedBy, ",")
			if used == "" {
				used = "-"
			}
			fmt.Fprintf(tw, "\t%s", used)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func newPluginRemoveCmd() *cobra.Command {
	var f pluginFlags
	cmd := &cobra.Command{
		Use:   "remove NAME@VERSION[/FORM]",
		Short: "Remove an installed plugin version, or one of its forms (wasm, goplugin) when both are installed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := registry.ParseRef(args[0])
			if err != nil || ref.Version == "" {
				return usageError{fmt.Errorf("remove %q: want NAME@VERSION or NAME@VERSION/FORM, e.g. slack@0.1.0 or slack@0.1.0/wasm", args[0])}
			}
			r, s, err := f.open(cmd)
			if err != nil {
				return err
			}
			form, err := r.RemoveForm(ref.Name, ref.Version, ref.Form)
			if err != nil {
				// Not here (a node that refused it, or a remove whose
				// cluster step failed before): still remove it from the
				// cluster, which is what was asked.
				if ref.Form != "" {
					if held, uerr := unsharePlugin(cmd, s, ref.String()); uerr == nil && held {
						fmt.Fprintf(cmd.OutOrStdout(), "%s was not installed on this node\n", ref)
						return nil
					}
				}
				return err
			}
			ref.Form = form
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", ref)
			_, err = unsharePlugin(cmd, s, ref.String())
			return err
		},
	}
	f.register(cmd)
	return cmd
}
