package records

import (
	"strconv"

	"github.com/junctionhub/junction/pluginsdk/fields"
)

// appendString appends s as a JSON string: invalid UTF-8 becomes U+FFFD, so
// a payload is valid JSON whatever bytes a file holds.
func appendString(dst []byte, s string) []byte { return fields.AppendString(dst, s) }

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
