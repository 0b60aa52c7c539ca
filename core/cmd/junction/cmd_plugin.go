package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// newPluginCmd is `junction plugin`: build, install, list, remove, and sign
// connector plugins.
func newPluginCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Build, install, list, remove and sign connector plugins"}
	cmd.AddCommand(newPluginBuildCmd(), newPluginInstallCmd(), newPluginListCmd(), newPluginRemoveCmd(),
		newPluginSignCmd(), newPluginKeygenCmd(), newPluginPushCmd(), newPluginSaveCmd(), newPluginOutdatedCmd(), newPluginUpgradeCmd())
	return cmd
}

// pluginFlags are the flags that locate the registry and its trust
// settings.
type pluginFlags struct {
	configs []string
	dataDir string
}

func (f *pluginFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data", "", "data directory (default from Settings, ./data)")
	cmd.Flags().StringArrayVar(&f.configs, "config", []string{"configs"}, "config file or folder holding Settings (data_dir, trusted_keys, require_signatures)")
}

// settings reads the Settings document from the --config paths. A missing
// default folder means defaults; a configuration that does not load is an
// error when it may hide the Settings (its file has errors, or no Settings
// was found at all), so a broken file never silently drops
// require_signatures.
func (f *pluginFlags) settings(cmd *cobra.Command) (config.Settings, error) {
	if !cmd.Flags().Changed("config") {
		if _, err := os.Stat(f.configs[0]); errors.Is(err, os.ErrNotExist) {
			return config.DefaultSettings(), nil
		}
	}
	b, err := config.Load(f.configs, config.Options{LookupEnv: keepUnsetVars})
	if err == nil {
		return b.Settings, nil
	}
	var errs config.Errors
	if !errors.As(err, &errs) {
		return config.Settings{}, fmt.Errorf("read settings: %w", err)
	}
	for _, e := range errs {
		if b.Settings.Pos.Line == 0 || e.Pos.File == b.Settings.Pos.File {
			return config.Settings{}, fmt.Errorf("read settings: %s (fix it, or point --config at the Settings file)", e)
		}
	}
	return b.Settings, nil
}

// keepUnsetVars leaves ${VAR} in place when VAR is unset: reading Settings
// must not fail over a connection's secret that is not set in this shell.
func keepUnsetVars(k string) (string, bool) {
	if v, ok := os.LookupEnv(k); ok {
		return v, true
	}
	return "${" + k + "}", true
}

func (f *pluginFlags) open(cmd *cobra.Command) (*registry.Registry, config.Settings, error) {
	s, err := f.settings(cmd)
	if err != nil {
		return nil, s, err
	}
	dir := f.dataDir
	if dir == "" {
		dir = s.DataDir
	}
	r, err := registry.Open(dir)
	return r, s, err
}

func newPluginBuildCmd() *cobra.Command {
	var out, target string
	cmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Build a plugin from source into DIR/dist (artifact and manifest with its sha256)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			m, err := registry.BuildDistAs(cmd.Context(), args[0], out, registry.Kind(target), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			where := out
			if where == "" {
				where = filepath.Join(args[0], registry.DistDir, m.Artifact.File)
				// The form other than the source manifest's kind is built
				// into dist/<form> (registry.BuildDistAs).
				if src, err := registry.ReadManifest(args[0]); err == nil && src.Kind != m.Kind {
					where = filepath.Join(args[0], registry.DistDir, string(m.Kind), m.Artifact.File)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "built %s (%s) in %s\n  artifact: %s\n  sha256:   %s\n  manifest: %s\n",
				m.Ref(), m.Kind, time.Since(start).Round(100*time.Millisecond), where, m.Artifact.SHA256,
				filepath.Join(filepath.Dir(where), registry.ManifestFile))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "artifact file to write; the manifest goes next to it (default DIR/dist/NAME, or DIR/dist/FORM/NAME for the form other than the manifest's kind)")
	cmd.Flags().StringVar(&target, "target", "", "wasm or goplugin (default: the manifest's kind); the same source builds as either")
	return cmd
}

func newPluginInstallCmd() *cobra.Command {
	var f pluginFlags
	var hosts, secrets []string
	var kv bool
	var form string
	cmd := &cobra.Command{
		Use:   "install PATH|REF|FILE",
		Short: "Verify (digests, sha256, signature, capabilities) and install a plugin: a built directory, a .tar.gz of one, a source directory, a registry reference (registry/repo:tag or @sha256:...) or a file from plugin save",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, s, err := f.open(cmd)
			if err != nil {
				return err
			}
			o := registry.InstallOptions{RequireSignatures: s.RequireSignatures, Progress: cmd.ErrOrStderr()}
			for _, k := range s.TrustedKeys {
				pub, err := registry.ParsePublicKey(k)
				if err != nil {
					return err
				}
				o.TrustedKeys = append(o.TrustedKeys, pub)
			}
			if cmd.Flags().Changed("grant-http") || cmd.Flags().Changed("grant-kv") || cmd.Flags().Changed("grant-secret") {
				o.Granted = &registry.Capabilities{HTTPHosts: hosts, KV: kv, Secrets: secrets}
			}
			p, err := installFrom(cmd, r, args[0], o, form)
			if err != nil {
				return err
			}
			trust := "unsigned"
			if p.SignedBy != "" {
				trust = "signed by " + p.SignedBy
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s (%s, %s)\n  capabilities: %s\n  in: %s\n", p.Ref(), p.Manifest.Kind, trust, p.Granted, p.Dir)
			printOrigin(cmd, p)
			return sharePlugin(cmd, s, p)
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&hosts, "grant-http", nil, "grant only these HTTP hosts (repeatable; host, host:port or *.domain); without any --grant-* flag, what the manifest asks is granted")
	cmd.Flags().BoolVar(&kv, "grant-kv", false, "grant the KV store")
	cmd.Flags().StringArrayVar(&secrets, "grant-secret", nil, "grant a secret by name (repeatable)")
	cmd.Flags().StringVar(&form, "form", "", "from a registry or a saved file: wasm or goplugin (default: Wasm when offered, else the go-plugin executable for this platform)")
	return cmd
}

func newPluginSignCmd() *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "sign DIR",
		Short: "Sign a built plugin (DIR holds the manifest and artifact, e.g. plugins/x/dist) with an ed25519 key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyFile == "" {
				return usageError{errors.New("sign: --key FILE is required (create one with junction plugin keygen)")}
			}
			priv, err := registry.ReadPrivateKey(keyFile)
			if err != nil {
				return err
			}
			m, err := registry.Sign(priv, args[0])
			if err != nil {
				return err
			}
			pub := priv.Public().(ed25519.PublicKey)
			fmt.Fprintf(cmd.OutOrStdout(), "signed %s with key %s\n", m.Ref(), registry.EncodePublicKey(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "private key file (from junction plugin keygen)")
	return cmd
}

func newPluginKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Create an ed25519 signing key; prints the public key for Settings trusted_keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("keygen: --out FILE is required")}
			}
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			if err := registry.WritePrivateKey(out, priv); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key written to %s (keep it secret)\npublic key, for Settings trusted_keys:\n  %s\n", out, registry.EncodePublicKey(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the private key to (created 0600, never overwritten)")
	return cmd
}
