package fileimport

import (
	"context"

	"github.com/junctionhub/junction/pluginsdk"
)

// Pick returns the index of the configured entity a Fetch names: name, or
// the only entity when name is "". n and nameAt describe the connector's
// entities; where names the connection in errors.
func Pick(n int, nameAt func(i int) string, name, where string) (int, error) {
	if name == "" && n == 1 {
		return 0, nil
	}
	names := make([]string, n)
	for i := range n {
		if names[i] = nameAt(i); names[i] == name {
			return i, nil
		}
	}
	if n == 0 {
		return 0, pluginsdk.Errorf("%s: no entities configured (config.entities): this connection only exports", where)
	}
	return 0, pluginsdk.Errorf("%s: no entity %q (configured: %v)", where, name, names)
}

// Metadata lists n configured entities with the fields Sample infers from
// a file of each. at returns the i-th entity's source, entity and display
// name.
func Metadata(ctx context.Context, where string, n int, at func(i int) (Source, Entity, string)) (*pluginsdk.MetadataResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("%s: metadata: %v", where, err)
	}
	res := &pluginsdk.MetadataResult{}
	for i := range n {
		src, e, display := at(i)
		fields, err := Sample(ctx, src, e, 0)
		if err != nil {
			return nil, err
		}
		res.Entities = append(res.Entities, pluginsdk.Entity{Name: e.Name, DisplayName: display, Fields: fields})
	}
	return res, nil
}
