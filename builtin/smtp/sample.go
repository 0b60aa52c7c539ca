package smtp

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: an smtp connection, an inbound webhook
// and a workflow emailing through the first what arrives on the second. It
// ships in the binary so that docs and `junction validate` checks cannot
// drift from the connector.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
