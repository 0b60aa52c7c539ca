package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/junctionhub/junction/core/store"
)

func TestLatestRecordsScansBackwards(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	defer st.Close()
	// 1200 events of a busy connection around 3 of a quiet one.
	for i := 0; i < 1203; i++ {
		conn := "busy"
		if i == 10 || i == 600 || i == 1100 {
			conn = "quiet"
		}
		if _, err := st.Log().Append(ctx, []store.AppendRequest{{Connection: conn, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := LatestRecords(ctx, st.Log(), "quiet", "", 10, 5000)
	if err != nil || len(recs) != 3 || string(recs[0].Record) != `{"n":1100}` || string(recs[2].Record) != `{"n":10}` || recs[0].Entity != DefaultEntity {
		t.Fatalf("records %+v %v", recs, err)
	}
	// The scan bound stops before the oldest one.
	recs, _ = LatestRecords(ctx, st.Log(), "quiet", "", 10, 1000)
	if len(recs) != 2 {
		t.Errorf("bounded scan found %d, want 2", len(recs))
	}
}
