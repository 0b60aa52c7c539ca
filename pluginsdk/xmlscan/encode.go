// Package xmlscan moves XML tokenizing out of a Wasm guest: encoding/xml,
// which runs 15–20× slower inside a Go guest than natively, tokenizes a
// document in the host (core/plugin/wasmhost answers the xml_tokens call)
// and the guest walks the result, a flat stream of tokens, without
// allocating per token. Built natively (tests, go-plugin, builtin) the same
// encoder runs in process, so both forms see the same tokens, errors
// included (TestStreamMatchesDecoder, FuzzStream).
//
// The tokens are exactly those of an encoding/xml Decoder in strict mode
// with no Entity map, AutoClose or CharsetReader, read with Token: names
// carry namespace URLs, end elements are checked against their start. A
// connector that needs another decoder configuration keeps using
// encoding/xml.
package xmlscan

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
)

// Kind is a token's type.
type Kind uint8

const (
	// KindEnd closes the stream: no token, an error record follows.
	KindEnd Kind = iota
	KindStartElement
	KindEndElement
	KindCharData
	KindComment
	KindProcInst
	KindDirective
)

// Error kinds of the closing record.
const (
	errNone          = 0 // the document ended cleanly (io.EOF)
	errSyntax        = 1 // *xml.SyntaxError: line and message
	errUnexpectedEOF = 2 // io.ErrUnexpectedEOF
	errOther         = 3 // any other error, by its message
)

// Stream layout, little-endian, strings and byte fields as [len u32][bytes]:
//
//	start:     [1][space][local][n u32] n × ([space][local][value])
//	end:       [2][space][local]
//	char data: [3][data]   comment: [4][data]   directive: [6][data]
//	proc inst: [5][target][inst]
//	close:     [0][error kind u8][line u32][message]
//
// It is part of the Wasm ABI (abi.HostXMLTokens); both sides use this
// package, so they cannot disagree.

// Encode tokenizes doc and appends the token stream to dst. It never
// fails: a malformed document ends the stream with the decoder's error.
func Encode(dst, doc []byte) []byte {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err != nil {
			return appendClose(dst, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			dst = append(dst, byte(KindStartElement))
			dst = appendString(dst, t.Name.Space)
			dst = appendString(dst, t.Name.Local)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(t.Attr)))
			for _, a := range t.Attr {
				dst = appendString(dst, a.Name.Space)
				dst = appendString(dst, a.Name.Local)
				dst = appendString(dst, a.Value)
			}
		case xml.EndElement:
			dst = append(dst, byte(KindEndElement))
			dst = appendString(dst, t.Name.Space)
			dst = appendString(dst, t.Name.Local)
		case xml.CharData:
			dst = append(dst, byte(KindCharData))
			dst = appendBytes(dst, t)
		case xml.Comment:
			dst = append(dst, byte(KindComment))
			dst = appendBytes(dst, t)
		case xml.ProcInst:
			dst = append(dst, byte(KindProcInst))
			dst = appendString(dst, t.Target)
			dst = appendBytes(dst, t.Inst)
		case xml.Directive:
			dst = append(dst, byte(KindDirective))
			dst = appendBytes(dst, t)
		}
	}
}

func appendClose(dst []byte, err error) []byte {
	dst = append(dst, byte(KindEnd))
	var se *xml.SyntaxError
	switch {
	case err == io.EOF:
		dst = append(dst, errNone)
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		return appendString(dst, "")
	case errors.As(err, &se):
		dst = append(dst, errSyntax)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(se.Line))
		return appendString(dst, se.Msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		dst = append(dst, errUnexpectedEOF)
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		return appendString(dst, "")
	default:
		dst = append(dst, errOther)
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		return appendString(dst, err.Error())
	}
}

func appendString(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}
