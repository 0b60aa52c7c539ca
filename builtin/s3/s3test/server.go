// Package s3test runs an S3-compatible server in the test process:
// gofakes3 with its memory backend behind httptest on 127.0.0.1, talked to
// with the real aws-sdk-go-v2 client. It can also serve generated objects
// that are stored nowhere (to import 1 GB without holding 1 GB), and run a
// hook before each request (to fail one on purpose).
package s3test

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running S3-compatible server.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	backend *backend
	srv     *httptest.Server

	mu       sync.Mutex
	hook     func(r *http.Request) (int, string)
	requests map[string]int
}

// Start runs a server with the given buckets until the test ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	be := &backend{Backend: s3mem.New(), virtual: map[string]*Virtual{}}
	for _, b := range buckets {
		if err := be.CreateBucket(b); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	fake := gofakes3.New(be, gofakes3.WithLogger(gofakes3.DiscardLog()))
	s := &Server{backend: be, requests: map[string]int{}}
	handler := fake.Server()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[operation(r)]++
		hook := s.hook
		s.mu.Unlock()
		if hook != nil {
			if status, code := hook(r); status != 0 {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(status)
				_, _ = fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>injected by the test</Message></Error>", code)
				return
			}
		}
		handler.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// operation names a request for counting: "GET", "GET range", "PUT part",
// "POST", "DELETE"...
func operation(r *http.Request) string {
	op := r.Method
	q := r.URL.Query()
	switch {
	case r.Header.Get("Range") != "":
		op += " range"
	case q.Has("partNumber"):
		op += " part"
	case q.Has("list-type"):
		op += " list"
	case r.Header.Get("X-Amz-Copy-Source") != "":
		op += " copy"
	}
	return op
}

// SetHook runs hook before each request; a non-zero status answers the
// request with it and an S3 error of the code instead of serving it.
func (s *Server) SetHook(hook func(r *http.Request) (status int, code string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// Requests returns how many requests of an operation (see operation) were
// made.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Put stores an object.
func (s *Server) Put(t testing.TB, bucket, key, body string) {
	t.Helper()
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, strings.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// Get returns an object's content, and whether it exists.
func (s *Server) Get(t testing.TB, bucket, key string) (string, bool) {
	t.Helper()
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return "", false
	}
	defer obj.Contents.Close()
	b, err := io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b), true
}

// Keys lists the keys of a bucket under prefix.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	list, err := s.backend.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: prefix}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("list %s: %v", bucket, err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}

// Virtual is a read-only object served from ReaderAt.
type Virtual struct {
	Size     int64
	ReaderAt io.ReaderAt
}

// AddVirtual serves v at bucket/key.
func (s *Server) AddVirtual(bucket, key string, v *Virtual) {
	s.backend.mu.Lock()
	defer s.backend.mu.Unlock()
	s.backend.virtual[bucket+"/"+key] = v
}

// backend adds virtual objects to the memory backend.
type backend struct {
	*s3mem.Backend
	mu      sync.Mutex
	virtual map[string]*Virtual // bucket/key
}

func (b *backend) lookup(bucket, key string) *Virtual {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.virtual[bucket+"/"+key]
}

func virtualHash(key string, size int64) []byte {
	h := md5.Sum([]byte(key + "\x00" + strconv.FormatInt(size, 10)))
	return h[:]
}

func (b *backend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	list, err := b.Backend.ListBucket(name, prefix, page)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, v := range b.virtual {
		bucket, key, _ := strings.Cut(id, "/")
		var m gofakes3.PrefixMatch
		if bucket != name || (prefix != nil && !prefix.Match(key, &m)) || m.CommonPrefix || (page.HasMarker && key <= page.Marker) {
			continue
		}
		list.Add(&gofakes3.Content{Key: key, Size: v.Size, ETag: gofakes3.FormatETag(virtualHash(key, v.Size)),
			LastModified: gofakes3.NewContentTime(time.Unix(1_700_000_000, 0))})
	}
	sort.Slice(list.Contents, func(i, j int) bool { return list.Contents[i].Key < list.Contents[j].Key })
	return list, nil
}

func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	if v := b.lookup(bucket, key); v != nil {
		return &gofakes3.Object{Name: key, Size: v.Size, Hash: virtualHash(key, v.Size), Metadata: map[string]string{},
			Contents: io.NopCloser(bytes.NewReader(nil))}, nil
	}
	return b.Backend.HeadObject(bucket, key)
}

func (b *backend) GetObject(bucket, key string, rr *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	v := b.lookup(bucket, key)
	if v == nil {
		return b.Backend.GetObject(bucket, key, rr)
	}
	rng, err := rr.Range(v.Size)
	if err != nil {
		return nil, err
	}
	start, length := int64(0), v.Size
	if rng != nil {
		start, length = rng.Start, rng.Length
	}
	return &gofakes3.Object{Name: key, Size: v.Size, Hash: virtualHash(key, v.Size), Range: rng, Metadata: map[string]string{},
		Contents: io.NopCloser(io.NewSectionReader(v.ReaderAt, start, length))}, nil
}
