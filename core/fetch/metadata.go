package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// Metadata is a connection's stored entity and field list.
type Metadata struct {
	Connection string             `json:"connection"`
	FetchedAt  time.Time          `json:"fetchedAt"`
	Entities   []pluginsdk.Entity `json:"entities"`
}

func metadataKey(connection string) string { return "fetchmeta/" + url.PathEscape(connection) }

func (r *Runner) metadata(ctx context.Context, conn *connector.Conn, st *jobState) error {
	mp := conn.Connector.(pluginsdk.MetadataProvider) // check verified it
	res, err := mp.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if res == nil {
		res = &pluginsdk.MetadataResult{}
	}
	now := r.o.Now()
	md := Metadata{Connection: conn.Name(), FetchedAt: now, Entities: res.Entities}
	if md.Entities == nil {
		md.Entities = []pluginsdk.Entity{}
	}
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	if err := r.o.Store.KV().Set(ctx, metadataKey(conn.Name()), b, 0); err != nil {
		return fmt.Errorf("save metadata: %w", err)
	}
	if r.o.Observer != nil {
		r.o.Observer.SetMetadata(conn.Name(), res, now)
	}
	st.mu.Lock()
	st.job.Batches++
	st.job.Bytes += int64(len(b))
	st.mu.Unlock()
	return nil
}

// StoredMetadata returns the metadata last fetched for connection
// (store.ErrNotFound when there is none).
func (r *Runner) StoredMetadata(ctx context.Context, connection string) (*Metadata, error) {
	b, err := r.o.Store.KV().Get(ctx, metadataKey(connection))
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", connection, err)
	}
	var md Metadata
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", connection, err)
	}
	return &md, nil
}
