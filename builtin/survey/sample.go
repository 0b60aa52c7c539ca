package survey

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: a directory, a survey, smtp and twilio
// connections, and workflows that invite by email and by two-way SMS and
// record SMS replies. It ships in the binary so that docs and `junction
// validate` checks cannot drift from the tasks.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
