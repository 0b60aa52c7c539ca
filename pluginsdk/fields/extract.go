package fields

// Extract reads every path of p from doc in one pass and stores each value as
// raw JSON in out[i] — a sub-slice of doc, nil when the path is absent. It
// validates the whole document: on malformed JSON it returns a *SyntaxError.
// out must have at least Len() elements.
//
// Under GOOS=wasip1 the scan runs in the host, natively; elsewhere in process.
func (p *Paths) Extract(doc []byte, out [][]byte) error {
	if len(out) < len(p.src) {
		return &SyntaxError{Msg: "internal: output slice shorter than the path set"}
	}
	return p.extract(doc, out)
}

// Valid reports whether doc is one well-formed JSON value (host-assisted under
// Wasm, like Extract).
func Valid(doc []byte) bool {
	return validator.Extract(doc, nil) == nil
}

var validator = MustCompile()

func fill(doc []byte, spans []Span, out [][]byte) {
	for i, s := range spans {
		if s.Start < 0 {
			out[i] = nil
			continue
		}
		out[i] = doc[s.Start:s.End:s.End]
	}
}
