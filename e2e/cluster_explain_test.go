package e2e

import (
	"context"
	"encoding/base32"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// explainUnsettled reports, for acknowledged events the kill test found
// without a completed run, what every surviving node lists for them and
// what the stream holds: each run's record and its work message, and the
// work consumer's state. A failure then says where the run stopped.
func (c *cluster) explainUnsettled(t *testing.T, ids []string, survivors []int) {
	t.Helper()
	if len(ids) == 0 {
		return
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	runIDs := map[string]bool{}
	for _, i := range survivors {
		rs, err := listRuns(c.Hubs[i], url.Values{})
		if err != nil {
			t.Logf("explain: %s: %v", c.Nodes[i], err)
			continue
		}
		for _, r := range rs {
			if id := idOf(r.Input); want[id] {
				t.Logf("explain: %s lists %s for %s: %s, last attempt on %q", c.Nodes[i], r.ID, id, r.Status, lastNode(r))
				runIDs[r.ID] = true
			}
		}
	}
	nc, js, err := c.client()
	if err != nil {
		t.Logf("explain: %v", err)
		return
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "JUNCTION")
	if err != nil {
		t.Logf("explain: stream: %v", err)
		return
	}
	info := st.CachedInfo()
	t.Logf("explain: stream first %d last %d msgs %d deleted %d; leader %s", info.State.FirstSeq, info.State.LastSeq, info.State.Msgs, info.State.NumDeleted, info.Cluster.Leader)
	if cons, err := st.Consumer(ctx, "junction-work"); err != nil {
		t.Logf("explain: work consumer: %v", err)
	} else {
		ci := cons.CachedInfo()
		t.Logf("explain: work consumer: delivered stream %d, ack floor stream %d, ack pending %d, pending %d, redelivered %d, waiting %d, leader %s",
			ci.Delivered.Stream, ci.AckFloor.Stream, ci.NumAckPending, ci.NumPending, ci.NumRedelivered, ci.NumWaiting, ci.Cluster.Leader)
	}
	tok := func(s string) string {
		return "_" + base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(s))
	}
	var sorted []string
	for id := range runIDs {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	var lowest uint64
	for _, id := range sorted {
		if m, err := st.GetLastMsgForSubject(ctx, "JUNCTION.run."+tok(id)); err == nil && (lowest == 0 || m.Sequence < lowest) {
			lowest = m.Sequence
		}
	}
	// The stream around the first unsettled run: what each sequence holds
	// now (a deleted message answers "not found").
	if lowest > 0 {
		from := lowest - min(lowest-1, 5)
		for seq := from; seq < lowest+2*uint64(len(sorted))+10; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				t.Logf("explain: seq %d: %v", seq, err)
				continue
			}
			t.Logf("explain: seq %d: %s at %s, status %q, batch %q %q", seq, m.Subject, m.Time.Format(time.RFC3339Nano), m.Header.Get("Jn-Status"), m.Header.Get("Nats-Batch-Id"), m.Header.Get("Nats-Batch-Sequence"))
		}
	}
	for _, id := range sorted {
		for _, kind := range []string{"run", "work"} {
			m, err := st.GetLastMsgForSubject(ctx, "JUNCTION."+kind+"."+tok(id))
			switch {
			case err != nil:
				t.Logf("explain: %s %s: %v", kind, id, err)
			default:
				t.Logf("explain: %s %s: seq %d at %s, status %q", kind, id, m.Sequence, m.Time.Format(time.RFC3339Nano), m.Header.Get("Jn-Status"))
			}
		}
	}
}

// saveLogs writes every process's whole output into $JUNCTION_E2E_LOGS
// when it is set, passed or failed: a failure message carries only each
// log's end, and a passing run's logs show how often a rare path ran.
func (c *cluster) saveLogs() {
	dir := os.Getenv("JUNCTION_E2E_LOGS")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, fmt.Sprintf("%s-%d", strings.ReplaceAll(c.t.Name(), "/", "_"), time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Logf("save logs: %v", err)
		return
	}
	for _, p := range c.NATS {
		_ = os.WriteFile(filepath.Join(dir, "nats-"+p.Name+".log"), []byte(p.out.String()), 0o644)
	}
	for i, h := range c.Hubs {
		_ = os.WriteFile(filepath.Join(dir, "junction-"+c.Nodes[i]+".log"), []byte(h.out.String()), 0o644)
	}
	c.t.Logf("whole logs in %s", dir)
}
