//go:build !unix

package wasmhost

import "context"

// withGuestMemory keeps wazero's default allocator where anonymous mappings
// are not available.
func withGuestMemory(ctx context.Context) context.Context { return ctx }
