package directorytasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func sampleEnv(name string) (string, bool) {
	return map[string]string{"SHOP_API_KEY": "shop-key"}[name], name == "SHOP_API_KEY"
}

// checker knows the builtin webhook connector and the registered tasks.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "webhook" }
func (checker) TaskKnown(uses string) bool {
	_, ok := task.Lookup(uses)
	return ok
}
func (checker) ActionKnown(string, string) (bool, bool) { return false, false }

func TestSampleIsYAMLWithDocumentedKinds(t *testing.T) {
	if file, err := os.ReadFile("sample.yaml"); err != nil || !bytes.Equal(file, SampleConfig()) {
		t.Fatalf("SampleConfig differs from sample.yaml (%v)", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(SampleConfig()))
	var got []string
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, doc.Kind+"/"+doc.Metadata.Name)
	}
	want := "Directory/POOL_demo Connection/shop-events Workflow/shop-orders-to-directory Workflow/closed-cases-to-directory"
	if strings.Join(got, " ") != want {
		t.Errorf("documents %v, want %s", got, want)
	}
}

// TestSampleWorkflowsRun loads sample.yaml with config.Load and runs its
// workflows' tasks, rendered as the engine renders them, on the payloads in
// testdata.
func TestSampleWorkflowsRun(t *testing.T) {
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: sampleEnv, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Directories) != 1 || b.Directories[0].Name != "POOL_demo" || len(b.Directories[0].Dedup) != 2 {
		t.Fatalf("directories = %+v", b.Directories)
	}
	env := envWith(t, openStore(t), b.Directories)
	ex := tasks(t, env)
	svc := service(env)

	runs := []struct {
		file    string
		wantErr string // of the task that fails, if one does
	}{
		{"order.json", ""},
		{"order-repeat.json", ""},
		{"case-closed.json", ""},
		{"case-closed-no-name.json", "contact firstName, lastName are required but missing or empty (require: firstName, lastName, email)"},
	}
	for i, r := range runs {
		payload, err := os.ReadFile("testdata/" + r.file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := mapping.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		matched := 0
		for _, wf := range b.Workflows {
			if !wf.Compiled.Filter.Match(doc) {
				continue
			}
			matched++
			fields, err := wf.Compiled.Fields.Apply(doc)
			if err != nil {
				t.Fatalf("%s: fields: %v", r.file, err)
			}
			data := map[string]any{"event": doc, "fields": fields, "tasks": map[string]any{}, "run": map[string]any{}}
			for _, tk := range wf.Tasks {
				if cond := wf.Compiled.If[tk.Name]; cond != nil {
					if v, err := cond.Render(data); err != nil || v != true {
						continue
					}
				}
				v, err := wf.Compiled.With[tk.Name].Render(data)
				if err != nil {
					t.Fatalf("%s: render %s: %v", r.file, tk.Name, err)
				}
				input, _ := json.Marshal(v)
				_, err = ex[tk.Uses].Execute(context.Background(), &task.Call{
					RunID: "run", Workflow: wf.Name, Task: tk.Name, Input: input, IdempotencyKey: r.file + "/" + tk.Name, Attempt: 1,
				})
				if r.wantErr != "" {
					permanent(t, err, r.wantErr)
					continue
				}
				if err != nil {
					t.Fatalf("%s: task %s (%s): %v", r.file, tk.Name, input, pluginsdk.AsError(err))
				}
			}
		}
		if matched != 1 {
			t.Errorf("run %d: %s matched %d workflows, want 1", i, r.file, matched)
		}
	}

	ctx := context.Background()
	found, err := svc.Find(ctx, "POOL_demo", directory.Query{Email: "ann.lee@example.com"}, 0)
	if err != nil || len(found) != 1 {
		t.Fatalf("ann = %v, %v", found, err)
	}
	ann, err := svc.Get(ctx, found[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ann.FirstName != "Ann" || ann.LastName != "Lee" || ann.Embedded["tier"] != "gold" {
		t.Errorf("ann = %+v", ann.Contact)
	}
	var got []string
	for _, tx := range ann.Transactions {
		got = append(got, tx.Date.Format(time.DateOnly)+" "+strings.Join([]string{str2(tx.Data["order"]), str2(tx.Data["case"])}, ""))
	}
	if want := "2026-02-10 ord_1002|2026-02-14 ord_1001|2026-02-20 500xx000001"; strings.Join(got, "|") != want {
		t.Errorf("transactions %q, want %q", strings.Join(got, "|"), want)
	}
	if len(ann.MailingLists) != 1 || ann.MailingLists[0].Name != "Newsletter" {
		t.Errorf("lists = %+v", ann.MailingLists)
	}
	if n, _ := svc.Count(ctx, "POOL_demo"); n != 1 {
		t.Errorf("%d contacts, want 1 (bob's case was refused)", n)
	}
}

func str2(v any) string {
	s, _ := v.(string)
	return s
}
