package storeapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
)

func TestGetEvent(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := st.Log().Append(ctx, []store.AppendRequest{{Connection: "in", Payload: json.RawMessage(`{"id":"A"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	(&Events{Log: st.Log()}).Routes(app.Group("/api/v1"))

	tests := []struct {
		name, id string
		status   int
		errCode  string
	}{
		{"stored", res[0].ID, 200, ""},
		{"not stored", event.FormatID(res[0].Seq + 1), 404, "not_found"},
		{"not an event ID", "nonsense", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/events/"+tt.id, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, data)
			}
			var body struct {
				Event event.Event
				Seq   string
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatal(err)
			}
			if body.Error.Code != tt.errCode || (tt.errCode != "" && body.Error.Message == "") {
				t.Fatalf("error %+v, want code %q", body.Error, tt.errCode)
			}
			if tt.status == 200 && (body.Event.ID != tt.id || body.Event.Connection != "in" || string(body.Event.Payload) != `{"id":"A"}` || body.Seq != "1") {
				t.Errorf("event %+v seq %q", body.Event, body.Seq)
			}
		})
	}
}
