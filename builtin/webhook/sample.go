package webhook

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: an inbound connection, an outbound one
// and a workflow joining them. It ships in the binary so that docs and
// `junction validate` checks cannot drift from the connector.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
