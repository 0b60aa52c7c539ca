package main

import (
	"fmt"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// toEvent checks one message and makes it an event. v holds the message's
// values at msgPaths; typ is the call type of the endpoint (/v1/<type>),
// "" when the message must name its own; batchSentAt is the batch
// envelope's sentAt (nil for a single message). A non-empty reason refuses
// the message.
//
// The payload is the message as sent, with three changes Segment's own
// pipeline also makes: `type` is added when the endpoint implies it, a
// batch's `sentAt` is copied into messages that lack one, and a `writeKey`
// (the browser SDK puts one in every message) is removed so the secret
// never reaches the event log and run history.
func toEvent(msg []byte, v *[nPaths][]byte, typ string, batchSentAt []byte) (pluginsdk.Event, string) {
	var add [2]member
	adds := add[:0]
	switch raw := v[pType]; {
	case raw == nil && typ == "":
		return pluginsdk.Event{}, "no type: a message needs \"type\" (identify, track, page, screen, group or alias)"
	case raw == nil:
		adds = append(adds, member{"type", quoted(typ)})
	default:
		got, ok := fields.String(raw)
		switch {
		case !ok:
			return pluginsdk.Event{}, fmt.Sprintf("type must be a string, not %.40s", raw)
		case !contains(callTypes, got):
			return pluginsdk.Event{}, fmt.Sprintf("unknown type %q: want identify, track, page, screen, group or alias", got)
		case typ != "" && got != typ:
			return pluginsdk.Event{}, fmt.Sprintf("type %q does not match the endpoint /v1/%s", got, typ)
		}
		typ = got
	}
	if blank(v[pUserID]) && blank(v[pAnonymousID]) {
		return pluginsdk.Event{}, "no userId or anonymousId: Segment needs at least one of them"
	}
	if typ == "track" {
		if name, ok := fields.String(v[pEvent]); !ok || name == "" {
			return pluginsdk.Event{}, "a track message needs an event name (\"event\")"
		}
	}
	if v[pSentAt] == nil && batchSentAt != nil {
		adds = append(adds, member{"sentAt", batchSentAt})
	}
	payload := msg
	if v[pWriteKey] != nil {
		var ok bool
		if payload, ok = withoutMember(msg, "writeKey"); !ok {
			return pluginsdk.Event{}, "malformed message: cannot remove its writeKey"
		}
	}
	if len(adds) > 0 {
		payload = prepend(payload, adds)
	}
	ev := pluginsdk.Event{Payload: payload, Type: typ}
	ev.DedupKey, _ = fields.String(v[pMessageID])
	if t, ok := fields.Time(v[pTimestamp]); ok {
		ev.Time = t
	}
	return ev, ""
}

// member is a JSON object member to add: a key and its raw JSON value.
type member struct {
	key string
	raw []byte
}

func quoted(s string) []byte { return fields.AppendString(nil, s) }

// blank reports whether raw is absent, null or the empty string.
func blank(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null" || string(raw) == `""`
}

// prepend adds members at the front of the JSON object obj (which has
// none of their keys), leaving the rest byte for byte.
func prepend(obj []byte, adds []member) []byte {
	n := len(obj) + 2
	for _, m := range adds {
		n += len(m.key) + len(m.raw) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, m := range adds {
		if i > 0 {
			out = append(out, ',')
		}
		out = fields.AppendString(out, m.key)
		out = append(out, ':')
		out = append(out, m.raw...)
	}
	rest := trimSpace(obj[1:])
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
