package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/pluginsdk"
)

func export(c *Connector, input string) (*pluginsdk.PerformResult, error) {
	return c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: "export", Input: json.RawMessage(input), Attempt: 1})
}

// bigRecords returns n records of about 100 bytes as a JSON list.
func bigRecords(n int) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"id":%d,"text":"%s"}`, i, strings.Repeat("x", 80))
	}
	return "[" + strings.Join(recs, ",") + "]"
}

func TestExport(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	c := connect(t, baseConfig(srv, nil))
	c.partSize = 64 << 10 // S3 wants 5 MiB; the test server takes any size
	tests := []struct {
		name, input, key, want string
		parts                  int
	}{
		{name: "csv", input: `{"records":[{"email":"a@x.org","amount":12.5},{"email":"b@x.org","amount":3}],"key":"outbound/events-2024-05-01.csv"}`,
			key: "outbound/events-2024-05-01.csv", want: "email,amount\na@x.org,12.5\nb@x.org,3\n"},
		{name: "ndjson", input: `{"records":[{"a":1}],"key":"outbound/a.jsonl"}`, key: "outbound/a.jsonl", want: "{\"a\":1}\n"},
		{name: "multipart", input: `{"records":` + bigRecords(3000) + `,"key":"outbound/big.ndjson"}`, key: "outbound/big.ndjson", parts: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := export(c, tt.input)
			if err != nil {
				t.Fatal(err)
			}
			var out exportResult
			if err := json.Unmarshal(res.Output, &out); err != nil {
				t.Fatal(err)
			}
			got, ok := srv.Get(t, testBucket, tt.key)
			if !ok {
				t.Fatalf("%s not in the bucket", tt.key)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("object %q, want %q", got, tt.want)
			}
			if out.Key != tt.key || out.Bucket != testBucket || out.Bytes != int64(len(got)) || out.Parts != tt.parts || out.ETag == "" {
				t.Errorf("output %s (object has %d bytes; want %d parts)", res.Output, len(got), tt.parts)
			}
			if tt.parts > 0 && strings.Count(got, "\n") != 3000 {
				t.Errorf("multipart object has %d lines, want 3000", strings.Count(got, "\n"))
			}
		})
	}
	if got := srv.Requests("PUT part"); got != 5 {
		t.Errorf("%d parts uploaded, want 5", got)
	}
}

// TestExportAbortsFailedUpload: a part fails; no object appears and the
// upload is aborted.
func TestExportAbortsFailedUpload(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	c := connect(t, baseConfig(srv, nil))
	c.partSize = 64 << 10
	var parts atomic.Int32
	srv.SetHook(func(r *http.Request) (int, string) {
		if r.URL.Query().Has("partNumber") && parts.Add(1) >= 2 {
			return http.StatusForbidden, "AccessDenied"
		}
		return 0, ""
	})
	_, err := export(c, `{"records":`+bigRecords(3000)+`,"key":"outbound/big.ndjson"}`)
	if err == nil || pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "export to outbound/big.ndjson: access denied (AccessDenied)") {
		t.Fatalf("export: %v", err)
	}
	if _, ok := srv.Get(t, testBucket, "outbound/big.ndjson"); ok {
		t.Error("a failed export left an object")
	}
	if got := srv.Requests("DELETE"); got != 1 {
		t.Errorf("%d DELETE requests, want 1 (abort the upload)", got)
	}
}

func TestExportErrors(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	c := connect(t, baseConfig(srv, func(m map[string]any) { m["bucket"] = "missing" }))
	if _, err := export(c, `{"records":[{"a":1}],"key":"x.csv"}`); err == nil || err.Error() != `s3 bucket "missing" does not exist at `+srv.URL {
		t.Errorf("missing bucket: %v", err)
	}
	for _, tt := range []struct{ input, want string }{
		{`{"records":[{"a":1}],"key":"/x.csv"}`, "keys do not start with /"},
		{`{"records":[{"a":1}],"path":"x.csv"}`, "input.path is not a known key"},
	} {
		if _, err := export(c, tt.input); err == nil || !strings.Contains(err.Error(), tt.want) || pluginsdk.IsRetryable(err) {
			t.Errorf("export(%s): %v, want %q", tt.input, err, tt.want)
		}
	}
}
