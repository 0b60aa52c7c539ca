package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/taskinput"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/pluginsdk"
)

// distributeInput is the `with:` block of survey.distribute.
type distributeInput struct {
	Survey, Directory, Method, Via string
	Contact                        directory.ContactInput
	Subject, Body                  *messageTemplate // Subject is nil for SMS
	Unsubscribe                    []*messageTemplate
	LinkTTL                        time.Duration
	// LinkEmbedded lists the embedded keys the link carries; nil: all.
	LinkEmbedded []string
}

var (
	distributeKeys = []string{"survey", "directory", "contact", "embedded", "method", "message", "via", "link_ttl", "link_embedded"}
	messageKeys    = []string{"subject", "body", "unsubscribe"}
	contactInKeys  = []string{"email", "phone", "extRef", "firstName", "lastName", "language"}
	replyKeys      = []string{"from", "body", "messageSid", "to"}
)

// object decodes the rendered `with:` block, refusing keys the task does not
// know, so that a typo fails the run instead of being ignored.
func object(raw json.RawMessage, allowed []string) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, pluginsdk.Errorf("with: missing; want %s", strings.Join(allowed, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, pluginsdk.Errorf("with: not valid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, pluginsdk.Errorf("with: want an object with %s", strings.Join(allowed, ", "))
	}
	return m, taskinput.CheckKeys("with", m, allowed)
}

// strList reads a string or a list of strings.
func strList(m map[string]any, key, path string) ([]string, error) {
	switch v := m[key].(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, nil
		}
		return []string{strings.TrimSpace(v)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, pluginsdk.Errorf("%s[%d]: want a string", path, i)
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	default:
		return nil, pluginsdk.Errorf("%s: want a string or a list of strings", path)
	}
}

func parseDistribute(raw json.RawMessage) (*distributeInput, error) {
	m, err := object(raw, distributeKeys)
	if err != nil {
		return nil, err
	}
	in := &distributeInput{LinkTTL: DefaultLinkTTL}
	if in.Survey, err = taskinput.Required(m, "survey", "with.survey", " (the name of a kind: Survey, e.g. SV_demo)"); err != nil {
		return nil, err
	}
	if in.Directory, err = taskinput.Required(m, "directory", "with.directory", " (the name of a kind: Directory, e.g. POOL_demo)"); err != nil {
		return nil, err
	}
	if in.Method, err = taskinput.Required(m, "method", "with.method", " (email, sms or sms_two_way)"); err != nil {
		return nil, err
	}
	if !slices.Contains(directory.Methods, in.Method) {
		return nil, pluginsdk.Errorf("with.method: %q; want one of %s", in.Method, strings.Join(directory.Methods, ", "))
	}
	if in.Via, err = taskinput.String(m, "via", "with.via"); err != nil {
		return nil, err
	}
	if in.Contact, err = taskinput.Contact(m, contactInKeys); err != nil {
		return nil, err
	}
	if in.Contact.Embedded, err = scalars(m, "embedded"); err != nil {
		return nil, err
	}
	if s, err := taskinput.String(m, "link_ttl", "with.link_ttl"); err != nil {
		return nil, err
	} else if s != "" {
		if in.LinkTTL, err = parseTTL(s); err != nil {
			return nil, pluginsdk.Errorf("with.link_ttl: %v", err)
		}
	}
	if _, ok := m["link_embedded"]; ok {
		if in.LinkEmbedded, err = strList(m, "link_embedded", "with.link_embedded"); err != nil {
			return nil, err
		}
		if in.LinkEmbedded == nil {
			in.LinkEmbedded = []string{} // given but empty: carry none
		}
	}
	return in, parseMessageBlock(m, in)
}

func parseMessageBlock(m map[string]any, in *distributeInput) error {
	msg, ok := m["message"].(map[string]any)
	if !ok {
		return pluginsdk.Errorf("with.message: required; want an object with %s", strings.Join(messageKeys, ", "))
	}
	if err := taskinput.CheckKeys("with.message", msg, messageKeys); err != nil {
		return err
	}
	body, err := taskinput.Required(msg, "body", "with.message.body", " (the text, with [[ .link ]] where the personal link goes)")
	if err != nil {
		return err
	}
	if in.Body, err = parseMessage("message.body", body); err != nil {
		return pluginsdk.Errorf("%v", err)
	}
	if in.Method != directory.MethodEmail {
		return nil // subject and unsubscribe are email headers
	}
	subject, err := taskinput.Required(msg, "subject", "with.message.subject", " for method email")
	if err != nil {
		return err
	}
	if in.Subject, err = parseMessage("message.subject", subject); err != nil {
		return pluginsdk.Errorf("%v", err)
	}
	unsub, err := strList(msg, "unsubscribe", "with.message.unsubscribe")
	if err != nil {
		return err
	}
	for i, u := range unsub {
		t, err := parseMessage(fmt.Sprintf("message.unsubscribe[%d]", i), u)
		if err != nil {
			return pluginsdk.Errorf("%v", err)
		}
		in.Unsubscribe = append(in.Unsubscribe, t)
	}
	return nil
}

// scalars reads an object of string, number and boolean values.
func scalars(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, pluginsdk.Errorf("with.%s: want an object of string, number or boolean values", key)
	}
	for k, e := range obj {
		switch e.(type) {
		case nil, string, json.Number, bool:
		default:
			return nil, pluginsdk.Errorf("with.%s.%s: want a string, number or boolean", key, k)
		}
	}
	return obj, nil
}

// replyInput is the `with:` block of survey.record_reply.
type replyInput struct {
	From, Body, MessageSID, To string
}

func parseReply(raw json.RawMessage) (replyInput, error) {
	var in replyInput
	m, err := object(raw, replyKeys)
	if err != nil {
		return in, err
	}
	if in.From, err = taskinput.Required(m, "from", "with.from", " (the phone number the reply came from)"); err != nil {
		return in, err
	}
	switch v := m["body"].(type) {
	case string:
		in.Body = v // kept as sent
	case json.Number: // a field typed number
		in.Body = v.String()
	case nil:
	default:
		return in, pluginsdk.Errorf("with.body: want a string")
	}
	if in.MessageSID, err = taskinput.String(m, "messageSid", "with.messageSid"); err != nil {
		return in, err
	}
	in.To, err = taskinput.String(m, "to", "with.to")
	return in, err
}
