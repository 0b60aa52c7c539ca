package twilio

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: a twilio connection, an inbound webhook
// and a workflow texting through the first what arrives on the second. It
// ships in the binary so that docs and `junction validate` checks cannot
// drift from the connector.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
