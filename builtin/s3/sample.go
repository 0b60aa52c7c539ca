package s3

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: an s3 connection importing two
// entities every hour, a workflow saving imported profiles as contacts, and
// one exporting an object per imported order. It ships in the binary so
// that docs and `junction validate` checks cannot drift from the connector.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
