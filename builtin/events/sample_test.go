package events

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// checker knows the sample's connectors, this task and the export action.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "sftp" || c == "s3" || c == "webhook" }
func (checker) TaskKnown(uses string) bool {
	_, ok := task.Lookup(uses)
	return ok && uses == TaskID
}
func (checker) ActionKnown(c, a string) (bool, bool) {
	return (c == "sftp" || c == "s3") && a == "export", true
}

func sampleEnv(name string) (string, bool) {
	switch name {
	case "PARTNER_SFTP_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "SHOP_API_KEY":
		return "secret", true
	}
	return "", false
}

// TestSampleWorkflowsExport loads sample.yaml with config.Load and runs
// both scheduled workflows as the engine would, on a scheduled payload:
// events.collect for real over a Badger log, then the export's input as
// the s3 and sftp export actions check it.
func TestSampleWorkflowsExport(t *testing.T) {
	if file, err := os.ReadFile("sample.yaml"); err != nil || !bytes.Equal(file, SampleConfig()) {
		t.Fatalf("SampleConfig differs from sample.yaml (%v)", err)
	}
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: sampleEnv, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Connections) != 3 || len(b.Workflows) != 2 {
		t.Fatalf("loaded %d connections and %d workflows, want 3 and 2", len(b.Connections), len(b.Workflows))
	}
	lg := appendEvents(t, openStore(t), []ev{
		{"partner-sftp", "profiles", clock("08:59:59"), fileEvent("/inbound/profiles/p1.csv", 9, "profiles", `{"email":"early@x"}`)},
		{"partner-sftp", "profiles", clock("09:12:00"), fileEvent("/inbound/profiles/p1.csv", 2, "profiles", `{"email":"ann@x","plan":"gold"}`)},
		{"shop-orders", "", clock("09:13:00"), `{"id":"A-1","email":"ann@x","total":12.5,"note":"left out by columns"}`},
		{"partner-sftp", "profiles", clock("09:58:00"), fileEvent("/inbound/profiles/p1.csv", 3, "profiles", `{"email":"bob@x","plan":""}`)},
	})
	conns := fakeConns{
		"partner-sftp": conn("partner-sftp", "sftp", "profiles"),
		"data-lake":    conn("data-lake", "s3"),
		"shop-orders":  conn("shop-orders", "webhook"),
	}
	x := newTestCollector(lg, conns, clock("23:00:00").Add(time.Hour), nil)

	tests := []struct {
		workflow, target, wantTarget, wantRecords string
		at                                        time.Time
	}{
		{"profiles-hourly-export", "key", "exports/partner-sftp/2024-05-01/09.ndjson",
			`{"_file":"/inbound/profiles/p1.csv","_line":2,"email":"ann@x","plan":"gold"}` + "\n" +
				`{"_file":"/inbound/profiles/p1.csv","_line":3,"email":"bob@x","plan":""}`,
			clock("10:00:00")},
		{"profiles-hourly-export", "key", "", "", clock("11:00:00")}, // an hour without profiles: no export
		{"orders-nightly-csv", "path", "/outbound/orders/2024-05-01.csv",
			`{"email":"ann@x","id":"A-1","note":"left out by columns","total":12.5}`, clock("00:00:00").Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		wf := b.Workflow(tt.workflow)
		if wf == nil || wf.Trigger.Schedule == nil {
			t.Fatalf("workflow %s: missing or not scheduled", tt.workflow)
		}
		doc, err := mapping.Decode(schedule.WorkflowPayload(wf.Name, tt.at))
		if err != nil {
			t.Fatal(err)
		}
		data := map[string]any{"event": doc, "fields": map[string]any{}, "tasks": map[string]any{}, "run": map[string]any{}}
		var exportInput json.RawMessage
		for _, tk := range wf.Tasks {
			if cond := wf.Compiled.If[tk.Name]; cond != nil {
				if v, err := cond.Render(data); err != nil || !truthy(v) {
					continue
				}
			}
			v, err := wf.Compiled.With[tk.Name].Render(data)
			if err != nil {
				t.Fatalf("%s: render %s: %v", wf.Name, tk.Name, err)
			}
			input, _ := json.Marshal(v)
			if tk.Uses != TaskID {
				exportInput = input
				continue
			}
			out, err := x.Execute(context.Background(), &task.Call{RunID: "run", Workflow: wf.Name, Task: tk.Name, Input: input, Attempt: 1})
			if err != nil {
				t.Fatalf("%s: %s: %v", wf.Name, tk.Name, pluginsdk.AsError(err))
			}
			dec, err := mapping.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			data["tasks"].(map[string]any)[tk.Name] = map[string]any{"output": dec}
		}
		if tt.wantTarget == "" {
			if exportInput != nil {
				t.Errorf("%s at %s: exported %s, want no export", wf.Name, tt.at.Format(time.TimeOnly), exportInput)
			}
			continue
		}
		x, err := records.ParseExport(exportInput, tt.target)
		if err != nil {
			t.Fatalf("%s: the export action refuses %s: %v", wf.Name, exportInput, err)
		}
		if x.Target != tt.wantTarget {
			t.Errorf("%s: export to %q, want %q", wf.Name, x.Target, tt.wantTarget)
		}
		var got []string
		for _, r := range x.Records {
			got = append(got, string(r))
		}
		if strings.Join(got, "\n") != tt.wantRecords {
			t.Errorf("%s: exported\n%s\nwant\n%s", wf.Name, strings.Join(got, "\n"), tt.wantRecords)
		}
	}
}

// truthy is the engine's rule for `if:` on the values a count renders to.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case json.Number:
		return x.String() != "0"
	case string:
		return x != "" && x != "0" && x != "false"
	case bool:
		return x
	}
	return true
}
