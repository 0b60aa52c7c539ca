//go:build !wasip1

package fields

func (p *Paths) extract(doc []byte, out [][]byte) error {
	if len(p.src) == 0 {
		// Validation only (Valid, twice per pushed event): no span to
		// keep, so no buffer, which would escape to the heap through the
		// recursive scanner.
		return p.Spans(doc, nil)
	}
	var small [16]Span
	spans := small[:0]
	if len(p.src) > len(small) {
		spans = make([]Span, len(p.src))
	} else {
		spans = small[:len(p.src)]
	}
	if err := p.Spans(doc, spans); err != nil {
		return err
	}
	fill(doc, spans, out)
	return nil
}

func elements(doc []byte) ([][]byte, error) {
	var small [64]Span
	spans, err := ElementSpans(doc, small[:0])
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(spans))
	fill(doc, spans, out)
	return out, nil
}
