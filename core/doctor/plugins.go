package doctor

import "github.com/junctionhub/junction/core/plugin/registry"

// checkPlugins verifies each installed plugin version's artifact against
// the sha256 of its manifest: a module or executable changed after
// install would run with the grants given to the original.
func checkPlugins(r *Report, dataDir string) {
	found, err := registry.Audit(dataDir)
	if err != nil {
		r.add(Fail, "plugins", "%v", err)
		return
	}
	if len(found) == 0 {
		r.add(Skip, "plugins", "none installed under %s", dataDir)
		return
	}
	for _, f := range found {
		if f.Err != nil {
			r.add(Fail, "plugin "+f.Ref, "%v; reinstall it (junction plugin install)", f.Err)
			continue
		}
		r.add(OK, "plugin "+f.Ref, "artifact matches the manifest's sha256")
	}
}
