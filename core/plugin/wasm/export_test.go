package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// StartInstance instantiates and initialises one instance (what a pool does
// when it grows), for benchmarks. The caller closes the returned module.
func (m *Module) StartInstance(ctx context.Context) (api.Module, error) {
	in, err := m.instantiate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return in.mod, nil
}
