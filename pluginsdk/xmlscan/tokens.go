package xmlscan

// Tokens tokenizes doc: under GOOS=wasip1 in the host, natively, in one
// call; elsewhere in process. Either way the tokens are those encoding/xml
// reads (see the package comment).
func Tokens(doc []byte) *Reader { return NewReader(tokens(doc)) }
