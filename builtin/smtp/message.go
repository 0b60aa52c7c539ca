package smtp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what one message may carry.
const (
	maxSubject         = 900     // bytes: an ASCII subject stays one line under RFC 5322's 998
	maxBody            = 2 << 20 // bytes per part
	maxHeader          = 900     // bytes of one extra header's value
	maxRcpt            = 100     // recipients of one send_email
	mimeBoundaryPrefix = "junction-"
)

// reservedHeaders are written by the connector; input headers cannot set
// them, so that a template cannot forge a sender or break the MIME
// structure.
var reservedHeaders = map[string]string{
	"From": "config.from", "To": "to", "Cc": "", "Bcc": "", "Sender": "", "Subject": "subject",
	"Date": "", "Message-Id": "", "Mime-Version": "", "Content-Type": "text and html",
	"Content-Transfer-Encoding": "", "Reply-To": "reply_to", "Return-Path": "",
	"List-Unsubscribe": "list_unsubscribe", "List-Unsubscribe-Post": "list_unsubscribe",
}

// message is one email to build.
type message struct {
	From            *mail.Address
	To              []*mail.Address
	ReplyTo         *mail.Address
	Subject         string
	Text, HTML      string
	Headers         map[string]string // canonical names, checked by checkHeaders
	ListUnsubscribe []string          // URIs: mailto: or https:
	MessageID       string            // with angle brackets
	Date            time.Time
}

// messageID returns a Message-ID in domain. With a key (the task's
// idempotency key) it is derived from it, so a retry of the same task sends
// the same Message-ID and a receiving system can drop the duplicate.
func messageID(key, domain string) string {
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
	}
	sum := sha256.Sum256([]byte("junction-message-id\x00" + key))
	return "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

// domainOf is the part of an address after its last "@".
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

// checkHeaders validates extra headers and returns them with canonical names.
func checkHeaders(h map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(h))
	for k, v := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if !validHeaderName(k) {
			return nil, fmt.Errorf("headers: %q is not a valid header name", k)
		}
		if use, ok := reservedHeaders[ck]; ok {
			if use != "" {
				return nil, fmt.Errorf("headers: %s is set by the connector; use the %s input", ck, use)
			}
			return nil, fmt.Errorf("headers: %s is set by the connector and cannot be given", ck)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("headers: value of %s contains a line break or NUL", ck)
		}
		if len(v) > maxHeader {
			return nil, fmt.Errorf("headers: value of %s is %d bytes, more than %d", ck, len(v), maxHeader)
		}
		out[ck] = v
	}
	return out, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// checkUnsubscribe validates List-Unsubscribe URIs (RFC 2369): mailto: or
// http(s):, without characters that would end the <...> they are quoted in.
func checkUnsubscribe(uris []string) error {
	for _, s := range uris {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			return fmt.Errorf("list_unsubscribe: %q: %v", s, err)
		case strings.ContainsAny(s, "<>\r\n\x00 \t"):
			return fmt.Errorf("list_unsubscribe: %q contains <, >, white space or a line break", s)
		case u.Scheme == "mailto" && u.Opaque != "":
		case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
		default:
			return fmt.Errorf("list_unsubscribe: %q: want a mailto: or https: URI", s)
		}
	}
	return nil
}

// oneClick reports whether RFC 8058 one-click unsubscription applies: it
// needs an HTTPS URI for the mailbox provider to POST to.
func oneClick(uris []string) bool {
	for _, s := range uris {
		if strings.HasPrefix(strings.ToLower(s), "https:") {
			return true
		}
	}
	return false
}

// build renders the message as RFC 5322 text with CRLF line ends: one
// text/plain or text/html part, or both as multipart/alternative (plain
// first, so that clients preferring the richer part pick HTML). Bodies are
// quoted-printable, so the message is 7-bit clean whatever the server
// supports.
func (m *message) build() ([]byte, error) {
	if m.Text == "" && m.HTML == "" {
		return nil, fmt.Errorf("text or html is required")
	}
	for _, p := range []struct{ name, v string }{{"text", m.Text}, {"html", m.HTML}} {
		if !utf8.ValidString(p.v) {
			return nil, fmt.Errorf("%s is not valid UTF-8", p.name)
		}
		if len(p.v) > maxBody {
			return nil, fmt.Errorf("%s is %d bytes, more than %d", p.name, len(p.v), maxBody)
		}
	}
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", m.From.String())
	to := make([]string, len(m.To))
	for i, a := range m.To {
		to[i] = a.String()
	}
	header("To", strings.Join(to, ",\r\n "))
	if m.ReplyTo != nil {
		header("Reply-To", m.ReplyTo.String())
	}
	header("Subject", encodeHeader(m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	if len(m.ListUnsubscribe) > 0 {
		quoted := make([]string, len(m.ListUnsubscribe))
		for i, u := range m.ListUnsubscribe {
			quoted[i] = "<" + u + ">"
		}
		header("List-Unsubscribe", strings.Join(quoted, ",\r\n "))
		if oneClick(m.ListUnsubscribe) {
			header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
	}
	names := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		header(k, encodeHeader(m.Headers[k]))
	}
	header("MIME-Version", "1.0")

	switch {
	case m.Text != "" && m.HTML != "":
		mw := multipart.NewWriter(&b)
		_ = mw.SetBoundary(mimeBoundaryPrefix + randomHex(12)) // valid by construction
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		b.WriteString("\r\n")
		for _, p := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.typ + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(w, p.body); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	default:
		typ, body := "text/plain", m.Text
		if m.Text == "" {
			typ, body = "text/html", m.HTML
		}
		header("Content-Type", typ+"; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, body); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// writeQP writes body quoted-printable with CRLF line ends.
func writeQP(w interface{ Write([]byte) (int, error) }, body string) error {
	qp := quotedprintable.NewWriter(w)
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	return qp.Close()
}

// encodeHeader returns s as it may appear in a header: unchanged when it is
// printable ASCII, else as RFC 2047 encoded words, folded between words so
// that no line grows past RFC 5322's limits.
func encodeHeader(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	if enc == s {
		return s
	}
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
