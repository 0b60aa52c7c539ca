package events

import _ "embed"

//go:embed sample.yaml
var sample []byte

// SampleConfig returns sample.yaml: an hourly NDJSON export of imported
// profiles to S3 and a nightly CSV export of webhook orders to SFTP. It
// ships in the binary so that the docs cannot drift from the task; a test
// loads it and runs both workflows.
func SampleConfig() []byte { return append([]byte(nil), sample...) }
