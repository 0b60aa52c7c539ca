package fields

// Elements returns the elements of the JSON array doc as raw JSON sub-slices
// of doc, validating the whole document; a document that is not an array is
// a *SyntaxError. Under GOOS=wasip1 the host does the scan, as for Extract.
func Elements(doc []byte) ([][]byte, error) { return elements(doc) }

// ElementSpans appends to dst where each element of the JSON array doc lies.
// It always runs natively: the Wasm host calls it on a guest's behalf.
func ElementSpans(doc []byte, dst []Span) ([]Span, error) {
	s := scanner{doc: doc}
	i := s.ws(0)
	if i >= len(doc) || doc[i] != '[' {
		return dst, s.fail(i, "expected a JSON array")
	}
	i = s.ws(i + 1)
	if i < len(doc) && doc[i] == ']' {
		i++
	} else {
		for {
			end, err := s.value(i, nil, 1)
			if err != nil {
				return dst, err
			}
			dst = append(dst, Span{i, end})
			i = s.ws(end)
			if i >= len(doc) {
				return dst, s.fail(i, "unexpected end of input in an array")
			}
			if doc[i] == ']' {
				i++
				break
			}
			if doc[i] != ',' {
				return dst, s.fail(i, "expected ',' or ']' in an array")
			}
			i = s.ws(i + 1)
		}
	}
	if i = s.ws(i); i != len(doc) {
		return dst, s.fail(i, "unexpected data after the top-level value")
	}
	return dst, nil
}
