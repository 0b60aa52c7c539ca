package sftp

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: an sftp connection importing two
// entities on a schedule, a workflow saving imported profiles as contacts,
// and one exporting a receipt file per imported order. It ships in the
// binary so that docs and `junction validate` checks cannot drift from the
// connector.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
