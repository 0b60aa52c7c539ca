package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/plugin/oci"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// installFrom installs arg: an image-layout file written by `plugin save`
// (no network), a registry reference (when no such path exists), or a
// local directory or .tar.gz as before.
func installFrom(cmd *cobra.Command, r *registry.Registry, arg string, o registry.InstallOptions, form string) (*registry.Plugin, error) {
	oo := oci.InstallOptions{InstallOptions: o, Form: registry.Kind(form)}
	if form != "" && form != string(registry.KindWasm) && form != string(registry.KindGoPlugin) {
		return nil, usageError{fmt.Errorf("--form %q: want wasm or goplugin", form)}
	}
	fi, statErr := os.Stat(arg)
	switch {
	case statErr == nil && !fi.IsDir() && oci.IsLayoutFile(arg):
		return oci.InstallFile(cmd.Context(), r, arg, oo)
	case statErr != nil && oci.IsReference(arg):
		return oci.NewClient(oci.Options{}).Install(cmd.Context(), r, arg, oo)
	case form != "":
		return nil, usageError{errors.New("--form chooses among the forms of a registry reference or a saved file; a local plugin is one form")}
	}
	return r.Install(cmd.Context(), arg, o)
}

// trustOptions are the install options Settings' trust policy gives.
func trustOptions(s config.Settings) (registry.InstallOptions, error) {
	o := registry.InstallOptions{RequireSignatures: s.RequireSignatures}
	for _, k := range s.TrustedKeys {
		pub, err := registry.ParsePublicKey(k)
		if err != nil {
			return o, err
		}
		o.TrustedKeys = append(o.TrustedKeys, pub)
	}
	return o, nil
}

// printOrigin adds where a pulled plugin came from to install's output.
func printOrigin(cmd *cobra.Command, p *registry.Plugin) {
	if p.Source != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "  source: %s\n  digest: %s\n", p.Source, p.SourceDigest)
	}
}

func newPluginPushCmd() *cobra.Command {
	var keyFile, forms, platforms string
	cmd := &cobra.Command{
		Use:   "push DIR REF",
		Short: "Build (source DIR) or take (built DIR), sign and push a plugin to an OCI registry as REF (registry/repo:version)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key []byte
			if keyFile != "" {
				k, err := registry.ReadPrivateKey(keyFile)
				if err != nil {
					return err
				}
				key = k
			}
			plats, err := oci.ParsePlatforms(platforms)
			if err != nil {
				return usageError{err}
			}
			var built []oci.Built
			m, err := registry.ReadManifest(args[0])
			if err != nil {
				return err
			}
			if m.Artifact.File != "" {
				// A built directory goes as it is (signed with --sign-key).
				if key != nil {
					if _, err := registry.Sign(key, args[0]); err != nil {
						return err
					}
				}
				if m.Kind == registry.KindGoPlugin && len(plats) != 1 {
					return usageError{errors.New("a built go-plugin directory is one platform: give it with --platforms os/arch")}
				}
				built = []oci.Built{{Dir: args[0], Platform: plats[0]}}
			} else {
				var kinds []registry.Kind
				for _, f := range strings.Split(forms, ",") {
					if f = strings.TrimSpace(f); f != "" {
						kinds = append(kinds, registry.Kind(f))
					}
				}
				if len(kinds) == 0 {
					kinds = []registry.Kind{m.Kind}
				}
				work, err := os.MkdirTemp("", "junction-push-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(work)
				if built, err = oci.BuildForms(cmd.Context(), args[0], work, kinds, plats, key, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			digest, pm, err := oci.NewClient(oci.Options{}).Push(cmd.Context(), built, args[1])
			if err != nil {
				return err
			}
			trust := "unsigned"
			if key != nil {
				trust = "signed"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed %s (%d form(s), %s) to %s\n  digest: %s\n  install: junction plugin install %s@%s\n",
				pm.Ref(), len(built), trust, args[1], digest, strings.SplitN(args[1], "@", 2)[0], digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "sign-key", "", "sign every built form with this private key (from junction plugin keygen)")
	cmd.Flags().StringVar(&forms, "forms", "", "forms to build from a source DIR: wasm, goplugin or wasm,goplugin (default: the manifest's kind)")
	cmd.Flags().StringVar(&platforms, "platforms", "", "platforms of the go-plugin executable, e.g. linux/amd64,linux/arm64 (default: this host's)")
	return cmd
}

func newPluginSaveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "save REF FILE",
		Short: "Pull a plugin (every form and platform) into one OCI image-layout tar file, for `junction plugin install FILE` on a site with no registry",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !oci.IsReference(args[0]) {
				return usageError{fmt.Errorf("save: %q is not a registry reference (registry/repo:tag or registry/repo@sha256:...)", args[0])}
			}
			digest, err := oci.NewClient(oci.Options{}).Save(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s (%s) to %s\n", args[0], digest, args[1])
			return nil
		},
	}
	return cmd
}

// fromRegistry lists the installed plugins that came from a registry, the
// highest version of each name.
func fromRegistry(r *registry.Registry) map[string]*registry.Plugin {
	out := map[string]*registry.Plugin{}
	for _, p := range r.List() {
		if p.Source == "" || filepath.IsAbs(p.Source) || !oci.IsReference(p.Source) {
			continue
		}
		if old, ok := out[p.Manifest.Name]; !ok || registry.CompareVersions(p.Manifest.Version, old.Manifest.Version) > 0 {
			out[p.Manifest.Name] = p
		}
	}
	return out
}

func newPluginOutdatedCmd() *cobra.Command {
	var f pluginFlags
	cmd := &cobra.Command{
		Use:   "outdated",
		Short: "List installed plugins whose registry repository has a newer version tag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, _, err := f.open(cmd)
			if err != nil {
				return err
			}
			c := oci.NewClient(oci.Options{})
			all, _ := registry.ParseConstraint("*")
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tINSTALLED\tLATEST\tREPOSITORY")
			rows := 0
			var errs []error
			for _, p := range sortedPlugins(fromRegistry(r)) {
				repo, err := oci.Repository(p.Source)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				versions, err := c.Versions(cmd.Context(), repo)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", p.Manifest.Name, err))
					continue
				}
				if latest := oci.Newest(versions, p.Manifest.Version, all); latest != "" {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Manifest.Name, p.Manifest.Version, latest, repo)
					rows++
				}
			}
			if rows > 0 {
				_ = tw.Flush()
			} else if len(errs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "every plugin installed from a registry is at its newest version")
			}
			return errors.Join(errs...)
		},
	}
	f.register(cmd)
	return cmd
}

func sortedPlugins(m map[string]*registry.Plugin) []*registry.Plugin {
	var out []*registry.Plugin
	for _, p := range m {
		out = append(out, p)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Manifest.Name < out[j-1].Manifest.Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func newPluginUpgradeCmd() *cobra.Command {
	var f pluginFlags
	var constraint string
	var hosts, secrets []string
	var kv bool
	cmd := &cobra.Command{
		Use:   "upgrade NAME",
		Short: "Install the newest version of NAME (from the repository it was installed from) matching --constraint, beside the installed ones",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			con, err := registry.ParseConstraint(constraint)
			if err != nil {
				return usageError{err}
			}
			r, s, err := f.open(cmd)
			if err != nil {
				return err
			}
			cur, ok := fromRegistry(r)[args[0]]
			if !ok {
				return fmt.Errorf("upgrade %s: no installed version came from a registry (install one with junction plugin install REGISTRY/REPO:VERSION)", args[0])
			}
			repo, err := oci.Repository(cur.Source)
			if err != nil {
				return err
			}
			c := oci.NewClient(oci.Options{})
			versions, err := c.Versions(cmd.Context(), repo)
			if err != nil {
				return err
			}
			next := oci.Newest(versions, cur.Manifest.Version, con)
			if next == "" {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date: %s installed, no newer version in %s matches %q\n", args[0], cur.Manifest.Version, repo, constraint)
				return nil
			}
			o, err := trustOptions(s)
			if err != nil {
				return err
			}
			// The new version gets what the old one was granted, no more:
			// a release asking for more is refused until granted by flags.
			granted := cur.Granted
			o.Granted = &granted
			if cmd.Flags().Changed("grant-http") || cmd.Flags().Changed("grant-kv") || cmd.Flags().Changed("grant-secret") {
				o.Granted = &registry.Capabilities{HTTPHosts: hosts, KV: kv, Secrets: secrets}
			}
			p, err := c.Install(cmd.Context(), r, repo+":"+next, oci.InstallOptions{InstallOptions: o, Form: cur.Manifest.Kind})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "upgraded %s: installed %s beside %s (%s)\n", args[0], p.ID(), cur.ID(), p.SourceDigest)
			fmt.Fprintf(cmd.OutOrStdout(), "  connections pinned to %s keep running it until their config changes\n", cur.Ref())
			return sharePlugin(cmd, s, p)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&constraint, "constraint", "*", "semver range: ^1, ~1.2, >=1.2.0, 1.2.3 or * (any release)")
	cmd.Flags().StringArrayVar(&hosts, "grant-http", nil, "grant these HTTP hosts instead of what the installed version was granted (repeatable)")
	cmd.Flags().BoolVar(&kv, "grant-kv", false, "grant the KV store")
	cmd.Flags().StringArrayVar(&secrets, "grant-secret", nil, "grant a secret by name (repeatable)")
	return cmd
}
