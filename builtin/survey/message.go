package survey

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/junctionhub/junction/core/directory"
)

// Send-time placeholders are written [[ ... ]]: a workflow's `with:` block
// is itself a {{ }} template rendered when the run starts, so {{ }} would
// be filled (or refused by config checks) before the contact is known.
const (
	leftDelim  = "[["
	rightDelim = "]]"
)

// Keys a message template may read under .contact and .survey; anything
// else is refused when the template is parsed, so a typo fails the run
// instead of mailing "<no value>" to a customer.
var (
	contactKeys = []string{"id", "firstName", "lastName", "email", "phone", "extRef", "language", "embedded"}
	surveyKeys  = []string{"id", "name"}
	rootKeys    = []string{"contact", "survey", "link", "distribution"}
)

// messageTemplate is a parsed with.message field.
type messageTemplate struct {
	field string // message.body, for errors
	t     *template.Template
}

// parseMessage parses one field of with.message.
func parseMessage(field, src string) (*messageTemplate, error) {
	if i := strings.Index(src, "{{"); i >= 0 {
		end := min(len(src), i+40)
		return nil, fmt.Errorf("%s contains %q: placeholders filled when the message is sent are written [[ .contact.firstName ]]; {{ }} is filled when the workflow starts", field, src[i:end])
	}
	t, err := template.New(field).Delims(leftDelim, rightDelim).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", field, strings.TrimPrefix(err.Error(), "template: "))
	}
	if err := checkFields(field, t.Tree.Root, true); err != nil {
		return nil, err
	}
	return &messageTemplate{field: field, t: t}, nil
}

// checkFields refuses references to keys the render data does not have.
// Inside with and range blocks the dot moves, so their bodies are not
// checked.
func checkFields(field string, n parse.Node, top bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkFields(field, c, top); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkFields(field, n.Pipe, top)
	case *parse.IfNode:
		return checkBranch(field, &n.BranchNode, top, top)
	case *parse.WithNode:
		return checkBranch(field, &n.BranchNode, top, false)
	case *parse.RangeNode:
		return checkBranch(field, &n.BranchNode, top, false)
	case *parse.TemplateNode:
		return checkFields(field, n.Pipe, top)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				if err := checkFields(field, a, top); err != nil {
					return err
				}
			}
		}
	case *parse.FieldNode:
		if top {
			return checkChain(field, n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return checkChain(field, n.Ident[1:])
		}
	}
	return nil
}

func checkBranch(field string, b *parse.BranchNode, top, inner bool) error {
	if err := checkFields(field, b.Pipe, top); err != nil {
		return err
	}
	if err := checkFields(field, b.List, inner); err != nil {
		return err
	}
	return checkFields(field, b.ElseList, top)
}

func checkChain(field string, ident []string) error {
	ref := "." + strings.Join(ident, ".")
	if !slices.Contains(rootKeys, ident[0]) {
		return fmt.Errorf("%s: %s: unknown placeholder; a message reads .%s", field, ref, strings.Join(rootKeys, ", ."))
	}
	if len(ident) < 2 {
		return nil
	}
	switch ident[0] {
	case "contact":
		if !slices.Contains(contactKeys, ident[1]) {
			return fmt.Errorf("%s: %s: a contact has no %q; it has %s (and embedded.<key>)", field, ref, ident[1], strings.Join(contactKeys[:len(contactKeys)-1], ", "))
		}
	case "survey":
		if !slices.Contains(surveyKeys, ident[1]) {
			return fmt.Errorf("%s: %s: want .survey.id or .survey.name", field, ref)
		}
	case "distribution":
		if ident[1] != "id" {
			return fmt.Errorf("%s: %s: want .distribution.id", field, ref)
		}
	default:
		return fmt.Errorf("%s: %s: .%s is a string", field, ref, ident[0])
	}
	return nil
}

// render executes the template over data.
func (m *messageTemplate) render(data map[string]any) (string, error) {
	var b strings.Builder
	if err := m.t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s: %v", m.field, strings.TrimPrefix(err.Error(), "template: "))
	}
	return b.String(), nil
}

// renderData is what a message template sees.
func renderData(c *directory.Contact, link, surveyID, surveyName, distributionID string) map[string]any {
	emb := make(map[string]string, len(c.Embedded))
	for k, v := range c.Embedded {
		emb[k] = scalarText(v)
	}
	return map[string]any{
		"contact": map[string]any{
			"id": c.ID, "firstName": c.FirstName, "lastName": c.LastName, "email": c.Email,
			"phone": c.Phone, "extRef": c.ExtRef, "language": c.Language, "embedded": emb,
		},
		"link":         link,
		"survey":       map[string]any{"id": surveyID, "name": surveyName},
		"distribution": map[string]any{"id": distributionID},
	}
}

// scalarText is an embedded value as text: a missing key renders as "", a
// number with its exact digits.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

var (
	// urlRe finds the links to make clickable in the HTML part.
	urlRe = regexp.MustCompile(`https?://[^\s<>"]+`)
	// paraRe separates paragraphs: a blank line.
	paraRe = regexp.MustCompile(`\n[ \t]*\n+`)
)

// textToHTML renders a plain-text message as HTML: everything escaped,
// paragraphs at blank lines, line breaks kept, and http(s) links clickable
// (trailing punctuation left outside the link).
func textToHTML(text string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, para := range paraRe.Split(strings.TrimSpace(text), -1) {
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			b.WriteString(linkify(line))
		}
		b.WriteString("</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlRe.FindAllStringIndex(line, -1) {
		start, end := m[0], m[1]
		for end > start && strings.ContainsRune(".,;:!?)]}'", rune(line[end-1])) {
			end--
		}
		b.WriteString(html.EscapeString(line[last:start]))
		u := html.EscapeString(line[start:end])
		b.WriteString(`<a href="` + u + `">` + u + `</a>`)
		last = end
	}
	b.WriteString(html.EscapeString(line[last:]))
	return b.String()
}
