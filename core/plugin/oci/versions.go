package oci

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// Repository is the repository part of a reference: registry/repo.
func Repository(ref string) (string, error) {
	r, err := parseRef(ref)
	if err != nil {
		return "", err
	}
	return r.Context().Name(), nil
}

// Versions lists the tags of repo that are semantic versions, lowest
// first.
func (c *Client) Versions(ctx context.Context, repo string) ([]string, error) {
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	tags, err := remote.List(r, c.remoteOptions(ctx)...)
	if err != nil {
		return nil, c.wrap("list tags of", repo, err)
	}
	var out []string
	for _, t := range tags {
		if registry.IsVersion(t) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return registry.CompareVersions(out[i], out[j]) < 0 })
	return out, nil
}

// Newest is the highest of versions matching c and above current; "" when
// there is none.
func Newest(versions []string, current string, c registry.Constraint) string {
	best := ""
	for _, v := range versions {
		if c.Match(v) && registry.CompareVersions(v, current) > 0 && (best == "" || registry.CompareVersions(v, best) > 0) {
			best = v
		}
	}
	return best
}
