// Package wasm is the guest side of Junction's Wasm connector ABI. A plugin
// never imports it directly: pluginsdk/serve links it in when the plugin is
// built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared. It exports the
// entry points the host calls (junction_abi, junction_buffer,
// junction_handle), turns each request envelope into a call on the connector
// registered with pluginsdk.Register, and gives that connector a
// pluginsdk.Context whose HTTP, KV and Log are host functions. It also
// imports junction.yield, which the host's loop checks call so that a guest
// past its deadline can be stopped (see pluginsdk/RATIONALE.md, item 4).
//
// Everything here is compiled only for wasip1; on other targets the package
// is empty. The envelope layout lives in pluginsdk/wasm/abi, the reasons for
// it in pluginsdk/RATIONALE.md. The JSON scanner a connector reads payloads
// with is not part of this glue: it is pluginsdk/fields, which under wasip1
// asks the host to scan (the json_* host functions of the ABI).
package wasm
