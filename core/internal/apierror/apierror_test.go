package apierror

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		details any
		want    string
	}{
		{"without details", nil, `{"error":{"code":"not_found","message":"run \"x\" not found"}}`},
		{"with details", fiber.Map{"replayed": 2}, `{"error":{"code":"not_found","message":"run \"x\" not found","details":{"replayed":2}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error {
				return Write(c, fiber.StatusNotFound, "not_found", `run "x" not found`, tt.details)
			})
			resp, err := app.Test(httptest.NewRequest("GET", "/", nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 404 || string(body) != tt.want || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %s %q, want 404 %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.want)
			}
		})
	}
}
