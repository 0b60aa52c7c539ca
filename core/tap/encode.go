package tap

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// encodeEvent is json.Marshal(ev) without reflection, and without
// re-compacting a payload that is already on one line, as the log holds
// it: the ingest path pays for it on every watched event. A payload with
// line breaks is compacted (an SSE data line must not break), and one
// that is not valid JSON goes through json.Marshal, which reports it.
func encodeEvent(ev Event) ([]byte, error) {
	if !json.Valid(ev.Payload) {
		return json.Marshal(ev)
	}
	if bytes.ContainsAny(ev.Payload, "\r\n") {
		var c bytes.Buffer
		if err := json.Compact(&c, ev.Payload); err != nil {
			return nil, err
		}
		ev.Payload = c.Bytes()
	}
	b := make([]byte, 0, 96+len(ev.ID)+len(ev.Connection)+len(ev.Type)+len(ev.Payload))
	b = append(b, '{')
	if ev.ID != "" {
		b = append(b, `"id":`...)
		b = appendString(b, ev.ID)
		b = append(b, ',')
	}
	b = append(b, `"connection":`...)
	b = appendString(b, ev.Connection)
	if ev.Type != "" {
		b = append(b, `,"type":`...)
		b = appendString(b, ev.Type)
	}
	b = append(b, `,"receivedAt":"`...)
	b = ev.ReceivedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","payload":`...)
	b = append(b, ev.Payload...)
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, escaped as encoding/json does
// (<, > and & included, so a payload's text stays inert in a page).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = strconv.AppendInt(b, int64(r&0xf), 16)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
