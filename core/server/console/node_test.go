package console

import (
	"context"
	"strings"
	"testing"
)

// In a cluster, each task of a run may have run on another node, and
// pages come from whichever node the balancer picked: the run page names
// the node of each task, and every page's header the node serving it.
func TestConsoleShowsNodes(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Node = "eu-1" })
	r := f.testRun(`{"kind":"order","id":"N-1"}`)
	if len(r.Tasks) == 0 {
		t.Fatal("the test run ran no task")
	}
	b := f.login()
	tests := []struct {
		name    string
		node    string // recorded on every task; "" as before nodes were recorded
		want    []string
		wantNot []string
	}{
		{"recorded", "eu-2", []string{
			`id="node-name"`, "Node <code>eu-1</code>",
			`id="task-` + r.Tasks[0].Name + `-node">eu-2</dd>`, "<dt>Node</dt>",
		}, nil},
		{"not recorded", "", []string{"Node <code>eu-1</code>"}, []string{"<dt>Node</dt>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := f.st.Runs().Get(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range run.Tasks {
				run.Tasks[i].Node = tt.node // as another node of the cluster records it
			}
			if err := f.st.Runs().Update(context.Background(), run); err != nil {
				t.Fatal(err)
			}
			resp := b.get("/runs/" + r.ID)
			if resp.Status != 200 {
				t.Fatalf("GET run = %d", resp.Status)
			}
			mustContain(t, resp.Body, tt.want...)
			for _, s := range tt.wantNot {
				if strings.Contains(resp.Body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
	// Someone not logged in learns nothing about the cluster.
	if resp := f.anonymous().get("/login"); strings.Contains(resp.Body, "eu-1") {
		t.Error("the login page names the node")
	}
}
