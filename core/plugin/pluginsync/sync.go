// Package pluginsync keeps the plugins installed on the nodes of a cluster
// in step through a JetStream object store bucket.
//
// The node where `junction plugin install` runs verifies the plugin and
// installs it into its own data dir first, then puts it in the bucket
// (Publish): one object per installed version and form, named by its ID
// (name@version/form), holding a .tar.gz of the manifest (with its
// signature) and the artifact. `junction plugin remove` deletes the object
// (Unpublish), which leaves a tombstone in the bucket.
//
// Every node watches the bucket (Start), applies the whole bucket again
// every minute in case the watch missed an update, and installs what it does
// not have with registry.InstallShared: the same checks as a local install,
// against ITS OWN trusted_keys and require_signatures. Nothing in the bucket
// is trusted: an object that fails a check is refused, logged and listed by
// Refused (GET /api/v1/plugins shows it), and not installed. A tombstone
// removes the node's copy when it is the same content (same artifact sha256)
// and not a bundled build.
//
// Start returns once everything in the bucket has been applied, so a node
// that starts later validates and opens its connections with every plugin
// the cluster installed. A plugin that arrives while the node runs is
// installed at once and used like a plugin installed locally while the hub
// runs: by the next configuration apply (`junction apply`, SIGHUP), which
// resolves plugins again; connections already open keep what they opened.
package pluginsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/plugin/registry"
	js "github.com/junctionhub/junction/core/store/jetstream"
)

// BucketSuffix names the plugins' bucket beside the store's stream
// (jetstream.ObjectsBucket): <STREAM>_PLUGINS.
const BucketSuffix = "PLUGINS"

// Metadata keys of an object. They help a tombstone name what it removed;
// they are never trusted for an install (the manifest inside is checked).
const (
	metaSHA256 = "artifact-sha256"
	metaSigner = "signed-by"
)

// applyTimeout bounds fetching and installing one object.
const applyTimeout = 2 * time.Minute

// Publish puts the installed plugin p in the bucket, replacing an object of
// the same ID. Call it only after p was installed here (its checks passed).
func Publish(ctx context.Context, bucket jetstream.ObjectStore, p *registry.Plugin) error {
	var buf bytes.Buffer
	if err := registry.Pack(p, &buf); err != nil {
		return err
	}
	meta := jetstream.ObjectMeta{
		Name:        p.ID(),
		Description: "Junction plugin " + p.ID(),
		Metadata:    map[string]string{metaSHA256: p.Manifest.Artifact.SHA256},
	}
	if p.SignedBy != "" {
		meta.Metadata[metaSigner] = p.SignedBy
	}
	if _, err := bucket.Put(ctx, meta, &buf); err != nil {
		return fmt.Errorf("share plugin %s with the cluster: %w", p.ID(), err)
	}
	return nil
}

// Unpublish deletes the object of id (name@version/form) from the bucket,
// leaving a tombstone that makes every node remove its copy. It reports
// whether the bucket held id.
func Unpublish(ctx context.Context, bucket jetstream.ObjectStore, id string) (bool, error) {
	if _, err := bucket.GetInfo(ctx, id); errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("remove plugin %s from the cluster: %w", id, err)
	}
	if err := bucket.Delete(ctx, id); err != nil {
		return false, fmt.Errorf("remove plugin %s from the cluster: %w", id, err)
	}
	return true, nil
}

// TrustOptions are the install checks Settings ask for: its trusted_keys
// and require_signatures.
func TrustOptions(s config.Settings) (registry.InstallOptions, error) {
	o := registry.InstallOptions{RequireSignatures: s.RequireSignatures}
	for _, k := range s.TrustedKeys {
		pub, err := registry.ParsePublicKey(k)
		if err != nil {
			return o, err
		}
		o.TrustedKeys = append(o.TrustedKeys, pub)
	}
	return o, nil
}

// Refusal is an object of the bucket this node did not install.
type Refusal struct {
	// ID is the object's name, name@version/form.
	ID string `json:"id"`
	// Digest is the artifact's checksum the object claims, "sha256:<hex>".
	Digest string    `json:"digest,omitempty"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`

	nuid string // the refused put of the object (each put has its own)
}

// Options configure Start.
type Options struct {
	Registry *registry.Registry
	Bucket   jetstream.ObjectStore
	// Install holds this node's trusted keys and require_signatures
	// (TrustOptions); Granted and Progress are not used.
	Install registry.InstallOptions
	Logger  *slog.Logger
	// Resync is how often the whole bucket is applied again, in case the
	// watch missed an update. Zero: every minute.
	Resync time.Duration
}

// Sync applies the bucket to one node's registry.
type Sync struct {
	o       Options
	watcher jetstream.ObjectWatcher
	cancel  context.CancelFunc
	done    chan struct{}

	applyMu sync.Mutex // one apply at a time: the watch and the retry loop

	mu      sync.Mutex
	refused map[string]Refusal
	// retry holds the objects whose last apply failed for a reason that
	// may pass (the cluster did not answer in time): the retry loop tries
	// them again, while a refusal by this node's checks stays until the
	// object changes.
	retry map[string]bool
}

// retryEvery is how often objects that could not be fetched are tried
// again.
const retryEvery = 5 * time.Second

// resyncEvery is how often the whole bucket is applied again. The watch is
// an ordered consumer; the store's own tails of the same kind were seen
// to go silent, with no error, after a NATS server was killed
// (core/store/jetstream/tail.go), and a silent watch would leave this node
// without the plugins installed after. A pass costs one listing of the
// bucket's object infos; an object installed already, or whose current
// put this node refused, is not fetched again.
const resyncEvery = time.Minute

// Start applies every object in the bucket, then keeps watching it until
// Close. It returns when the first pass is done, or with ctx's error.
func Start(ctx context.Context, o Options) (*Sync, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Install.Granted, o.Install.Progress = nil, nil
	if o.Resync <= 0 {
		o.Resync = resyncEvery
	}
	wctx, cancel := context.WithCancel(context.Background())
	w, first, err := watch(ctx, wctx, o)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch the cluster's plugins: %w", err)
	}
	s := &Sync{o: o, watcher: w, cancel: cancel, done: make(chan struct{}), refused: map[string]Refusal{}, retry: map[string]bool{}}
	initial := make(chan struct{})
	go s.run(wctx, first, initial)
	go s.retryLoop(wctx)
	select {
	case <-initial:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("sync the cluster's plugins: %w", ctx.Err())
	}
}

// startWait bounds how long Start waits for a cluster that does not answer
// in time, as the store's Open does: nodes and servers start together, and
// a stream just created may still be electing its leader.
const startWait = time.Minute

// firstPassWait is how long a new watch may go without an update before
// its first pass (what the bucket held, then nil) ends. The client ends
// that pass for an empty bucket only if its first read of the bucket
// succeeds; a read that failed (a cluster still electing) would leave the
// watch waiting for good, the likely cause of a first pass CI saw never
// end on a fresh R3 cluster.
var firstPassWait = 10 * time.Second

// errFirstPassStalled: a watch's first pass stopped short.
var errFirstPassStalled = errors.New("the watch's first pass stalled")

// watch starts the bucket's watch (living in wctx) and reads its first
// pass, starting again while the cluster does not answer in time or the
// pass stalls, for up to startWait or until ctx ends.
func watch(ctx, wctx context.Context, o Options) (jetstream.ObjectWatcher, []*jetstream.ObjectInfo, error) {
	deadline := time.Now().Add(startWait)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		w, err := o.Bucket.Watch(wctx)
		if err == nil {
			var first []*jetstream.ObjectInfo
			if first, err = firstPass(ctx, w); err == nil {
				return w, first, nil
			}
			_ = w.Stop()
			if ctx.Err() != nil {
				return nil, nil, err
			}
		}
		if !errors.Is(err, errFirstPassStalled) && !js.Transient(err) || time.Now().After(deadline) {
			return nil, nil, err
		}
		o.Logger.Info("waiting for the cluster's plugin bucket", "err", err)
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
}

// firstPass reads w's updates up to the nil that ends its first pass.
func firstPass(ctx context.Context, w jetstream.ObjectWatcher) ([]*jetstream.ObjectInfo, error) {
	var out []*jetstream.ObjectInfo
	stall := time.NewTimer(firstPassWait)
	defer stall.Stop()
	for {
		select {
		case info, ok := <-w.Updates():
			if !ok {
				return nil, errFirstPassStalled
			}
			if info == nil {
				return out, nil
			}
			out = append(out, info)
			stall.Reset(firstPassWait)
		case <-stall.C:
			return nil, errFirstPassStalled
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// run applies the first pass, closes initial, then applies updates in the
// order the bucket gives them.
func (s *Sync) run(ctx context.Context, first []*jetstream.ObjectInfo, initial chan struct{}) {
	defer close(s.done)
	for _, info := range first {
		s.apply(ctx, info)
	}
	close(initial)
	for info := range s.watcher.Updates() {
		if info != nil {
			s.apply(ctx, info)
		}
	}
}

// apply makes the node's registry agree with one object, if its checks
// allow.
func (s *Sync) apply(ctx context.Context, info *jetstream.ObjectInfo) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	id := info.Name
	ref, err := registry.ParseRef(id)
	if err != nil || ref.Version == "" || ref.Form == "" {
		s.refuse(info, fmt.Errorf("object %q does not name a plugin as name@version/form", id))
		return
	}
	log := s.o.Logger.With("plugin", id)
	local, lerr := s.o.Registry.Resolve(id)
	if info.Deleted {
		s.clear(id)
		switch {
		case lerr != nil:
		case local.Bundled:
			log.Info("plugin removed from the cluster; this node's bundled build is kept")
		case info.Metadata[metaSHA256] != "" && info.Metadata[metaSHA256] != local.Manifest.Artifact.SHA256:
			log.Warn("plugin removed from the cluster; this node's copy has other content and is kept")
		default:
			if _, err := s.o.Registry.RemoveForm(ref.Name, ref.Version, ref.Form); err != nil {
				log.Error("plugin removed from the cluster, but not here", "err", err)
				return
			}
			log.Info("plugin removed (removed from the cluster)")
		}
		return
	}
	if lerr == nil && local.Manifest.Artifact.SHA256 == info.Metadata[metaSHA256] {
		s.clear(id) // installed here already, this node's checks passed then
		return
	}
	actx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	obj, err := s.o.Bucket.Get(actx, id)
	if err != nil {
		if ctx.Err() == nil {
			s.refuse(info, fmt.Errorf("fetch from the cluster (tried again every %s): %w", retryEvery, err))
			s.setRetry(id, true)
		}
		return
	}
	defer obj.Close()
	p, err := s.o.Registry.InstallShared(actx, obj, id, s.o.Install)
	if err != nil {
		s.refuse(info, err)
		// A read cut short by the cluster is worth another try; a check
		// this node made is not.
		s.setRetry(id, ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)))
		return
	}
	s.clear(id)
	log.Info("plugin installed from the cluster", "signed_by", p.SignedBy)
}

func (s *Sync) refuse(info *jetstream.ObjectInfo, err error) {
	r := Refusal{ID: info.Name, Error: err.Error(), At: time.Now().UTC().Truncate(time.Second), nuid: info.NUID}
	if d := info.Metadata[metaSHA256]; d != "" {
		r.Digest = "sha256:" + d
	}
	s.o.Logger.Error("plugin from the cluster refused", "plugin", info.Name, "err", err)
	s.mu.Lock()
	s.refused[info.Name] = r
	s.mu.Unlock()
}

func (s *Sync) clear(id string) {
	s.mu.Lock()
	delete(s.refused, id)
	delete(s.retry, id)
	s.mu.Unlock()
}

func (s *Sync) setRetry(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.retry[id] = true
	} else {
		delete(s.retry, id)
	}
}

// retryLoop applies again, every retryEvery, the objects that could not be
// fetched, reading each one's current state (it may have changed or gone),
// and the whole bucket every Options.Resync.
func (s *Sync) retryLoop(ctx context.Context) {
	t := time.NewTicker(retryEvery)
	defer t.Stop()
	full := time.NewTicker(s.o.Resync)
	defer full.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-full.C:
			s.resync(ctx)
			continue
		case <-t.C:
		}
		s.mu.Lock()
		ids := make([]string, 0, len(s.retry))
		for id := range s.retry {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		for _, id := range ids {
			info, err := s.o.Bucket.GetInfo(ctx, id, jetstream.GetObjectInfoShowDeleted())
			switch {
			case errors.Is(err, jetstream.ErrObjectNotFound):
				s.clear(id)
			case err != nil:
				// Still unreachable: next tick.
			default:
				s.apply(ctx, info)
			}
		}
	}
}

// resync applies every object in the bucket, tombstones included, except
// those whose current put this node refused (a refusal stays until the
// object changes).
func (s *Sync) resync(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, applyTimeout)
	infos, err := s.o.Bucket.List(lctx, jetstream.ListObjectsShowDeleted())
	cancel()
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			s.o.Logger.Warn("list the cluster's plugins; tried again later", "err", err)
		}
		return
	}
	for _, info := range infos {
		if ctx.Err() != nil {
			return
		}
		if !s.refusedAsIs(info) {
			s.apply(ctx, info)
		}
	}
}

// refusedAsIs reports whether this node's checks refused info's put of
// the object (a fetch that failed is tried again instead).
func (s *Sync) refusedAsIs(info *jetstream.ObjectInfo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refused[info.Name]
	return ok && !s.retry[info.Name] && r.nuid != "" && r.nuid == info.NUID
}

// Refused lists the bucket's objects this node refused, by ID.
func (s *Sync) Refused() []Refusal {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refusal, 0, len(s.refused))
	for _, r := range s.refused {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close stops watching and waits for an install in progress to end.
func (s *Sync) Close() error {
	if s == nil {
		return nil
	}
	err := s.watcher.Stop()
	s.cancel()
	<-s.done
	return err
}
