package directorytasks

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: a Directory, an inbound webhook
// connection and workflows using the three directory tasks. It ships in the
// binary so that docs and `junction validate` checks cannot drift from the
// tasks.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
