package smtptest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a message taken apart the way a mail client would.
type Parsed struct {
	Header mail.Header
	// ContentType is the top-level media type (multipart/alternative...).
	ContentType string
	// Text and HTML are the decoded text/plain and text/html parts.
	Text, HTML string
	// Parts counts the leaf parts.
	Parts int
}

// Subject returns the decoded Subject header.
func (p *Parsed) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(p.Header.Get("Subject"))
	if err != nil {
		return p.Header.Get("Subject")
	}
	return s
}

// Parse reads an RFC 5322 message with a text/plain, a text/html or a
// multipart/alternative body, decoding quoted-printable parts.
func Parse(data []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	p := &Parsed{Header: m.Header}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("Content-Type %q: %w", m.Header.Get("Content-Type"), err)
	}
	p.ContentType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		return p, p.leaf(mt, m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return nil, fmt.Errorf("multipart: %w", err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return nil, fmt.Errorf("part Content-Type: %w", err)
		}
		if err := p.leaf(pt, part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
			return nil, err
		}
	}
}

func (p *Parsed) leaf(mediaType, cte string, r io.Reader) error {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit":
	default:
		return fmt.Errorf("unexpected Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s part: %w", mediaType, err)
	}
	p.Parts++
	switch mediaType {
	case "text/plain":
		p.Text = string(b)
	case "text/html":
		p.HTML = string(b)
	default:
		return fmt.Errorf("unexpected part %s", mediaType)
	}
	return nil
}
