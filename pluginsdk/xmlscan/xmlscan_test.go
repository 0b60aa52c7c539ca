package xmlscan

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// direct is what encoding/xml reads from doc, rendered for comparison:
// each token, then the error that ended the document.
func direct(doc []byte) []string {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var out []string
	for {
		tok, err := d.Token()
		if err != nil {
			return append(out, describeErr(err))
		}
		out = append(out, render(tok))
	}
}

// viaStream is the same, read back from the token stream.
func viaStream(doc []byte) []string {
	r := NewReader(Encode(nil, doc))
	var out []string
	for {
		t, err := r.Next()
		if err != nil {
			return append(out, describeErr(err))
		}
		out = append(out, render(t.XML()))
	}
}

// render shows a token's type and content; an element without attributes
// is the same whether its list is nil or empty.
func render(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return fmt.Sprintf("<{%s}%s %q>", t.Name.Space, t.Name.Local, t.Attr)
	case xml.EndElement:
		return fmt.Sprintf("</{%s}%s>", t.Name.Space, t.Name.Local)
	case xml.ProcInst:
		return fmt.Sprintf("<?%s %q?>", t.Target, t.Inst)
	}
	return fmt.Sprintf("%T %q", tok, tok)
}

func describeErr(err error) string {
	var se *xml.SyntaxError
	switch {
	case err == io.EOF:
		return "EOF"
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error line %d: %s", se.Line, se.Msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	}
	return "error: " + err.Error()
}

func TestStreamMatchesDecoder(t *testing.T) {
	docs := map[string]string{
		"empty":         "",
		"prolog":        `<?xml version="1.0" encoding="UTF-8"?><!-- c --><!DOCTYPE x><a/>`,
		"namespaces":    `<e:Env xmlns:e="urn:e" xmlns="urn:d"><Body a="1" e:b="2"><x xmlns:sf="urn:sf" sf:t="sf:Case">t &amp; &lt;</x></Body></e:Env>`,
		"cdata":         `<a><![CDATA[<not>markup]]> and text</a>`,
		"nil attribute": `<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><b xsi:nil="true"/></a>`,
		"truncated":     `<a><b>text`,
		"mismatched":    "<a>\n<b></a>",
		"entity":        `<!DOCTYPE e [<!ENTITY a "x">]><a>&a;</a>`,
		"charset":       `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
		"bad utf8":      "<a>\xff</a>",
		"text only":     "just text",
		"trailing":      "<a/>trailing<b/>",
		"unicode":       `<a b="é">Bianchi Srl — 50 licences</a>`,
	}
	paths, _ := filepath.Glob("testdata/*.xml")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(p)] = string(b)
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			want, got := direct([]byte(doc)), viaStream([]byte(doc))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stream\n got %q\nwant %q", got, want)
			}
		})
	}
}

// A corrupt stream is reported, never read past its end.
func TestCorruptStream(t *testing.T) {
	full := Encode(nil, []byte(`<a x="1"><b>text</b></a>`))
	for n := 0; n < len(full); n++ {
		r := NewReader(full[:n])
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			_, err = r.Next()
		}
		if !errors.Is(err, ErrStream) {
			t.Fatalf("stream cut at %d of %d: %v, want ErrStream", n, len(full), err)
		}
	}
}

func TestSkip(t *testing.T) {
	r := Tokens([]byte(`<a><b><c/>x<c></c></b><d/></a>`))
	for _, want := range []string{"a", "b"} {
		if tok, err := r.Next(); err != nil || tok.Name.Local != want {
			t.Fatalf("%v %v, want <%s>", tok, err, want)
		}
	}
	if err := r.Skip(); err != nil {
		t.Fatal(err)
	}
	if tok, err := r.Next(); err != nil || tok.Kind != KindStartElement || tok.Name.Local != "d" {
		t.Fatalf("after Skip: %v %v, want <d>", tok, err)
	}
}

// FuzzStream checks that any input reads the same through the stream as
// through encoding/xml: tokens, then the same error.
func FuzzStream(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.xml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<a xmlns:x="urn:x" x:y="1"><![CDATA[z]]><!--c--><?p i?></a>`))
	f.Add([]byte("<a>\n<b></a>"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, got := direct(doc), viaStream(doc)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stream\n got %q\nwant %q", got, want)
		}
	})
}

func BenchmarkTokens(b *testing.B) {
	doc, err := os.ReadFile("testdata/case-closed.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		r := Tokens(doc)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
