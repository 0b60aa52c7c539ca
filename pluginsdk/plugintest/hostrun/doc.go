// Package hostrun runs a connector under Junction's real plugin host, for
// tests: it builds the plugin in a directory (to Wasm, or as a go-plugin
// executable) and returns constructors for plugintest.Target.New, so the
// acceptance suite checks the built forms exactly as it checks the native one:
//
//	func TestAcceptance(t *testing.T) {
//		tg := plugintest.Native("hello", func() pluginsdk.Connector { return &Hello{} })
//		tg.Config = json.RawMessage(`{"greeting": "Hello"}`)
//		plugintest.Acceptance(t, tg)
//
//		tg.Name, tg.New, tg.Native = "wasm", hostrun.Wasm(t, "."), false
//		plugintest.Acceptance(t, tg)
//		tg.Name, tg.New = "goplugin", hostrun.GoPlugin(t, ".")
//		plugintest.Acceptance(t, tg)
//	}
//
// It is the one pluginsdk package that imports Junction's core, and it is
// heavy on purpose; keep it out of tests that only need the native suite:
//   - core/plugin/build, which runs the Go toolchain (`go build`, so a test
//     needs Go and the plugin's module dependencies at hand);
//   - core/plugin/wasmhost and with it the wazero runtime (about a second to
//     compile a module, done once per test binary);
//   - core/plugin/gopluginhost and with it hashicorp/go-plugin and gRPC (each
//     connector is a child process, killed when its test ends).
//
// Everything else a connector's tests need (the suite, a fake host, Target and
// its cases) is in plugintest, which depends on pluginsdk, the standard
// library and goleak only.
package hostrun
