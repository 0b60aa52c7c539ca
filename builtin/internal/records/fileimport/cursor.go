package fileimport

import (
	"encoding/json"
	"fmt"

	"github.com/junctionhub/junction/builtin/internal/records"
)

// cursorVersion is the layout of Cursor; a cursor of another version is
// refused rather than misread.
const cursorVersion = 1

// FileID identifies one version of a remote file: a file whose size or
// version changes is another file.
type FileID struct {
	// Name is the full path (SFTP) or object key (S3).
	Name string
	Size int64
	// Version is the modification time in Unix seconds (SFTP) or the ETag
	// (S3).
	Version string
}

// MarshalJSON writes [name, size, version]: cursors hold many FileIDs.
func (f FileID) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{f.Name, f.Size, f.Version})
}

// UnmarshalJSON reads [name, size, version].
func (f *FileID) UnmarshalJSON(b []byte) error {
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 3 {
		return fmt.Errorf("file id %s: want [name, size, version]", b)
	}
	if err := json.Unmarshal(v[0], &f.Name); err != nil {
		return fmt.Errorf("file id name: %w", err)
	}
	if err := json.Unmarshal(v[1], &f.Size); err != nil {
		return fmt.Errorf("file id size: %w", err)
	}
	if err := json.Unmarshal(v[2], &f.Version); err != nil {
		return fmt.Errorf("file id version: %w", err)
	}
	return nil
}

// Cursor is an entity's import state, committed by the host together with
// the events of each batch.
type Cursor struct {
	V int `json:"v"`
	// Cur is the file being imported and where its next record starts.
	Cur *Progress `json:"cur,omitempty"`
	// After is the last key imported, for sources that list in key order
	// and import each key once (S3 without an archive prefix).
	After string `json:"after,omitempty"`
	// Done lists the imported files still in the folder, for sources that
	// leave imported files where they are (SFTP without archive_dir).
	Done []FileID `json:"done,omitempty"`
	// Archive lists imported files whose move to the archive is due. They
	// are moved at the start of the next Fetch, once this cursor (and so
	// every record of theirs) is committed.
	Archive []FileID `json:"archive,omitempty"`
}

// Progress is the file in progress.
type Progress struct {
	File FileID `json:"file"`
	records.Position
}

// DecodeCursor reads a cursor; an empty one is the start.
func DecodeCursor(b []byte) (Cursor, error) {
	c := Cursor{V: cursorVersion}
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("cursor: %w", err)
	}
	if c.V != cursorVersion {
		return c, fmt.Errorf("cursor version %d, want %d", c.V, cursorVersion)
	}
	return c, nil
}

func (c Cursor) encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("fileimport: encode cursor: %v", err)) // only strings and numbers: cannot fail
	}
	return b
}

// IsDone reports whether c.Done holds id.
func (c *Cursor) IsDone(id FileID) bool {
	for _, d := range c.Done {
		if d == id {
			return true
		}
	}
	return false
}

// IsPendingArchive reports whether a file of this name awaits its move.
func (c *Cursor) IsPendingArchive(name string) bool {
	for _, a := range c.Archive {
		if a.Name == name {
			return true
		}
	}
	return false
}
