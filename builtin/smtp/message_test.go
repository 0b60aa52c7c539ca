package smtp

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
)

func TestBuildEncodesHeadersAndFoldsLongOnes(t *testing.T) {
	subject := strings.Repeat("Com'è andata la tua visita? ", 8)
	m := &message{
		From: &mail.Address{Name: "Négoce Surveys", Address: "s@example.com"}, To: []*mail.Address{{Address: "a@example.com"}},
		Subject: subject, Text: strings.Repeat("line with a very long text ", 20) + "\n.\nend", HTML: "<p>è</p>",
		Headers: map[string]string{"X-Store": "Milano è"}, MessageID: "<x@example.com>", Date: time.Unix(0, 0).UTC(),
	}
	raw, err := m.build()
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 || strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d is %d bytes", i, len(line))
		}
		for _, b := range []byte(line) {
			if b >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", i, line)
			}
		}
	}
	p, err := smtptest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	from, err := p.Header.AddressList("From")
	if err != nil || from[0].Name != "Négoce Surveys" {
		t.Errorf("From %v, %v", from, err)
	}
	if p.Subject() != strings.TrimSpace(subject) && p.Subject() != subject {
		t.Errorf("Subject %q, want %q", p.Subject(), subject)
	}
	if !strings.HasSuffix(strings.ReplaceAll(p.Text, "\r\n", "\n"), "\n.\nend") || p.HTML != "<p>è</p>" {
		t.Errorf("parts %q %q", p.Text, p.HTML)
	}
}

func TestCheckHeaders(t *testing.T) {
	for _, tt := range []struct {
		h    map[string]string
		want string
	}{
		{map[string]string{"x-campaign": "a"}, ""},
		{map[string]string{"From": "x@example.com"}, "From is set by the connector; use the config.from input"},
		{map[string]string{"list-unsubscribe": "<x>"}, "use the list_unsubscribe input"},
		{map[string]string{"Bad Name": "x"}, `"Bad Name" is not a valid header name`},
		{map[string]string{"X-A": "a\r\nBcc: b"}, "contains a line break"},
	} {
		_, err := checkHeaders(tt.h)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkHeaders(%v) = %v, want %q", tt.h, err, tt.want)
		}
	}
}
