package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// sinceSlack bounds how far a run's CreatedAt may trail the time in its ID.
// List walks runs newest first by ID (the engine's ULIDs sort by time) and,
// with Since, stops at the first run created this long before Since instead
// of reading the rest of the history.
const sinceSlack = time.Minute

// listPrefix picks the narrowest index for a filter. The loaded runs are
// checked against the whole filter anyway.
func listPrefix(f RunFilter) string {
	switch {
	case f.DeadLetter:
		return prefixIdxDead
	case f.Workflow != "" && f.Status != "":
		return prefixIdxWfStatus + f.Workflow + "/" + f.Status + "/"
	case f.Workflow != "":
		return prefixIdxWorkflow + f.Workflow + "/"
	case f.Status != "":
		return prefixIdxStatus + f.Status + "/"
	default:
		return prefixRun
	}
}

func (f RunFilter) match(r *Run) bool {
	return (f.Status == "" || r.Status == f.Status) &&
		(f.Workflow == "" || r.Workflow == f.Workflow) &&
		(!f.DeadLetter || r.DeadLetter) &&
		(f.Since.IsZero() || !r.CreatedAt.Before(f.Since))
}

// List implements Runs. The cursor is the ID of the last run returned; it is
// "" when no further run matches.
func (s *badgerRuns) List(ctx context.Context, f RunFilter) ([]*Run, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	prefix := listPrefix(f)
	var (
		out  []*Run
		next string
	)
	err := (*Badger)(s).view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Reverse = true
		opts.Prefix = []byte(prefix)
		// Index keys carry no value; only the run/ walk reads values.
		opts.PrefetchValues = prefix == prefixRun
		opts.PrefetchSize = min(limit+1, opts.PrefetchSize)
		it, done := iterate(txn, opts)
		defer done()

		// 0xff never occurs in UTF-8, so it sorts after every ID.
		seek := []byte(prefix + "\xff")
		if f.After != "" {
			seek = []byte(prefix + f.After)
		}
		for it.Seek(seek); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			id := string(item.Key()[len(prefix):])
			if id == f.After || strings.Contains(id, "/") {
				continue // the cursor itself, or another name's entry
			}
			r, err := listedRun(txn, item, id, prefix == prefixRun)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			if !f.Since.IsZero() && r.CreatedAt.Before(f.Since.Add(-sinceSlack)) {
				return nil
			}
			if !f.match(r) {
				continue
			}
			if len(out) == limit {
				next = out[limit-1].ID
				return nil
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	return out, next, nil
}

func listedRun(txn *badger.Txn, item *badger.Item, id string, isRun bool) (*Run, error) {
	if !isRun {
		return getRun(txn, id)
	}
	var r *Run
	err := item.Value(func(v []byte) error {
		var err error
		r, err = decodeRun(v)
		return err
	})
	return r, err
}
