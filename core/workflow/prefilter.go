package workflow

// anyMayMatch reports whether some workflow triggered by an event could
// take it. Each filter is first tried on the raw payload (the conditions'
// values are all it decodes); an event every filter refuses that way is
// skipped without decoding the whole payload, which for most events, those
// no workflow wants, was the dispatcher's largest cost (issue 12). Any
// doubt (no filter, a path the raw form does not handle, a payload it does
// not judge) counts as a possible match, so the event is decoded and
// newRun decides exactly as before: a payload that does not decode still
// makes a failed run.
func anyMayMatch(triggered []*compiled, payload []byte) bool {
	for _, c := range triggered {
		f := c.wf.Compiled.Filter
		if f == nil {
			return true
		}
		if match, ok := f.MatchJSON(payload); !ok || match {
			return true
		}
	}
	return false
}
