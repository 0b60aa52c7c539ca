package xmlscan

import (
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"unsafe"
)

// Token is one token of the stream. Its strings and byte slices alias the
// stream, which a Reader never modifies, so they stay valid after Next.
type Token struct {
	Kind Kind
	// Name is a start or end element's name; Target a processing
	// instruction's.
	Name   xml.Name
	Target string
	// Attr is a start element's attributes, nil when it has none.
	Attr []xml.Attr
	// Data is character data, a comment, a directive or a processing
	// instruction's content.
	Data []byte
}

// Start returns the token as an xml.StartElement.
func (t *Token) Start() xml.StartElement { return xml.StartElement{Name: t.Name, Attr: t.Attr} }

// XML returns the token as encoding/xml would (allocating, for tests and
// callers that want the standard types).
func (t *Token) XML() xml.Token {
	switch t.Kind {
	case KindStartElement:
		return t.Start()
	case KindEndElement:
		return xml.EndElement{Name: t.Name}
	case KindCharData:
		return xml.CharData(t.Data)
	case KindComment:
		return xml.Comment(t.Data)
	case KindProcInst:
		return xml.ProcInst{Target: t.Target, Inst: t.Data}
	case KindDirective:
		return xml.Directive(t.Data)
	}
	return nil
}

// ErrStream reports a token stream that is not one Encode wrote: an
// internal error between host and guest, never the document's fault.
var ErrStream = errors.New("xmlscan: malformed token stream")

// Reader walks a token stream.
type Reader struct {
	b   []byte
	off int
	err error // set once the closing record has been read
}

// NewReader reads a stream written by Encode; it must not be modified
// while tokens are in use.
func NewReader(stream []byte) *Reader { return &Reader{b: stream} }

// Next returns the next token, or the error that ended the document: io.EOF
// after the last token of a well-formed document, otherwise what
// xml.Decoder.Token returned (an *xml.SyntaxError with the same line and
// message, io.ErrUnexpectedEOF, or an error with the same message).
func (r *Reader) Next() (Token, error) {
	if r.err != nil {
		return Token{}, r.err
	}
	if r.off >= len(r.b) {
		r.err = ErrStream
		return Token{}, r.err
	}
	k := Kind(r.b[r.off])
	r.off++
	var t Token
	t.Kind = k
	switch k {
	case KindStartElement:
		t.Name.Space = r.str()
		t.Name.Local = r.str()
		n := int(r.u32())
		if n > (len(r.b)-r.off)/12 { // each attribute takes at least 12 bytes
			r.err = ErrStream
			return Token{}, r.err
		}
		if n > 0 {
			t.Attr = make([]xml.Attr, n)
			for i := range t.Attr {
				t.Attr[i].Name.Space = r.str()
				t.Attr[i].Name.Local = r.str()
				t.Attr[i].Value = r.str()
			}
		}
	case KindEndElement:
		t.Name.Space = r.str()
		t.Name.Local = r.str()
	case KindCharData, KindComment, KindDirective:
		t.Data = r.bytes()
	case KindProcInst:
		t.Target = r.str()
		t.Data = r.bytes()
	case KindEnd:
		r.close()
		return Token{}, r.err
	default:
		r.err = ErrStream
	}
	if r.err != nil {
		return Token{}, r.err
	}
	return t, nil
}

// Skip consumes tokens up to the end of the element whose start was just
// read, as xml.Decoder.Skip does.
func (r *Reader) Skip() error {
	depth := 0
	for {
		t, err := r.Next()
		if err != nil {
			return err
		}
		switch t.Kind {
		case KindStartElement:
			depth++
		case KindEndElement:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}

func (r *Reader) close() {
	if r.off >= len(r.b) {
		r.err = ErrStream
		return
	}
	kind := r.b[r.off]
	r.off++
	line := int(r.u32())
	msg := r.str()
	if r.err != nil {
		return
	}
	switch kind {
	case errNone:
		r.err = io.EOF
	case errSyntax:
		r.err = &xml.SyntaxError{Msg: msg, Line: line}
	case errUnexpectedEOF:
		r.err = io.ErrUnexpectedEOF
	case errOther:
		r.err = errors.New(msg)
	default:
		r.err = ErrStream
	}
}

func (r *Reader) u32() uint32 {
	if r.err != nil || len(r.b)-r.off < 4 {
		r.err = ErrStream
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

// span reads a length-prefixed field's bounds. It is small enough to be
// inlined: a call costs a Go guest more than the work, and Next reads a
// few fields per token.
func (r *Reader) span() (start, end int, ok bool) {
	if len(r.b)-r.off < 4 {
		return 0, 0, false
	}
	start = r.off + 4
	end = start + int(binary.LittleEndian.Uint32(r.b[r.off:]))
	if end < start || end > len(r.b) {
		return 0, 0, false
	}
	r.off = end
	return start, end, true
}

func (r *Reader) bytes() []byte {
	start, end, ok := r.span()
	if !ok {
		r.err = ErrStream
		return nil
	}
	return r.b[start:end:end]
}

// str aliases the stream rather than copying: a copy is an allocation,
// the dearest thing in a Go guest.
func (r *Reader) str() string {
	start, end, ok := r.span()
	if !ok {
		r.err = ErrStream
		return ""
	}
	if start == end {
		return ""
	}
	return unsafe.String(&r.b[start], end-start)
}
