package records

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does, so the payload is always valid JSON whatever bytes
// a file holds. HTML characters are not escaped: payloads are not HTML.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendPayload appends the event payload of one imported record:
//
//	{"file": file, "line": line, "entity": entity, "record": {...}}
//
// (CONTRACT.md, sftp / s3 imports).
func AppendPayload(dst []byte, file, entity string, rec *Record) []byte {
	dst = append(dst, `{"file":`...)
	dst = appendString(dst, file)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendInt(dst, rec.Line, 10)
	dst = append(dst, `,"entity":`...)
	dst = appendString(dst, entity)
	dst = append(dst, `,"record":`...)
	dst = rec.AppendJSON(dst)
	return append(dst, '}')
}
