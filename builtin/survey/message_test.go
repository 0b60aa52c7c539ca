package survey

import (
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/directory"
)

func TestTextToHTML(t *testing.T) {
	got := textToHTML("Hi <Ann> & co,\n\nrate us: https://s.example.com/f?a=1&jt=x.y.\nThanks (see https://example.com/faq)\n")
	want := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" +
		"<p>Hi &lt;Ann&gt; &amp; co,</p>\n" +
		"<p>rate us: <a href=\"https://s.example.com/f?a=1&amp;jt=x.y\">https://s.example.com/f?a=1&amp;jt=x.y</a>.<br>\n" +
		"Thanks (see <a href=\"https://example.com/faq\">https://example.com/faq</a>)</p>\n" +
		"</body></html>\n"
	if got != want {
		t.Errorf("textToHTML:\n%s\nwant\n%s", got, want)
	}
	if got := textToHTML(`<a href="javascript:alert(1)">x</a> javascript:alert(1)`); strings.Contains(got, "<a ") {
		t.Errorf("markup in the text became markup: %s", got)
	}
}

func TestMessageTemplates(t *testing.T) {
	c := &directory.Contact{ID: "CID_1", FirstName: "Ann", Embedded: map[string]any{"Store": "Milano"}}
	data := renderData(c, "https://s.example.com/?jt=t", "SV_demo", "Store visit", "DIST_1")
	tests := []struct {
		src, want, err string
	}{
		{"[[ .contact.firstName ]] @ [[ .contact.embedded.Store ]]: [[ .link ]]", "Ann @ Milano: https://s.example.com/?jt=t", ""},
		{"[[ .contact.embedded.nothing ]]|[[ .contact.lastName ]]|", "||", ""},
		{"[[ if .contact.firstName ]]Hi [[ .contact.firstName ]][[ else ]]Hi[[ end ]]", "Hi Ann", ""},
		{"[[ with .contact ]][[ .firstName ]][[ end ]] [[ $.survey.name ]] [[ .distribution.id ]]", "Ann Store visit DIST_1", ""},
		{"[[ .survey.title ]]", "", "want .survey.id or .survey.name"},
		{"[[ .fields.x ]]", "", "unknown placeholder; a message reads .contact, .survey, .link, .distribution"},
		{"[[ $.contact.nme ]]", "", `a contact has no "nme"`},
		{"[[ .link.x ]]", "", ".link is a string"},
		{"[[ .contact.firstName ", "", "unclosed action"},
	}
	for _, tt := range tests {
		m, err := parseMessage("message.body", tt.src)
		if err == nil {
			var got string
			got, err = m.render(data)
			if err == nil && got != tt.want {
				t.Errorf("%q rendered %q, want %q", tt.src, got, tt.want)
			}
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.src, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.src, err, tt.err)
		}
	}
}
