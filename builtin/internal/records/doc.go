// Package records reads and writes the record files the file connectors
// (builtin/sftp, builtin/s3) import and export: CSV with a header row,
// NDJSON (one JSON object per line) and JSON (one array of objects).
//
// Design notes:
//   - Reading is streaming: a Reader holds one record at a time (at most
//     Options.MaxRecordBytes of it), whatever the size of the file, so
//     memory stays flat from a 1 MB file to a 1 GB one.
//   - A Reader reports its Position after every record: the byte offset
//     just past the record, the line number found there, and the CSV
//     header. A connector stores the Position in its cursor; after a
//     restart NewReader starts again at that offset (a seek or a ranged
//     GET) and goes on with the same line numbers, without reading the
//     start of the file again.
//   - Line numbers are physical lines of the file, counted from 1, of the
//     line a record starts on: the first data row of a CSV with a header is
//     line 2; a quoted CSV field or a pretty-printed JSON object spanning
//     lines counts them all. A malformed record is reported as an *Error
//     carrying that line number.
//   - CSV parsing is encoding/csv (RFC 4180, strict quotes). The only thing
//     added around it is a byte budget per record: encoding/csv buffers a
//     record until its closing quote, so one stray quote would otherwise
//     read the rest of a 1 GB file into memory.
//   - A record becomes an event payload with AppendPayload, written by hand
//     rather than through encoding/json: the CSV columns keep the header's
//     order, and no map is built per row.
package records
