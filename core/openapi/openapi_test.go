package openapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// TestDocumentIsValid: the document is OpenAPI 3.1 that a validator
// accepts, with every $ref resolved.
func TestDocumentIsValid(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	if model.Model.Paths.PathItems.Len() < 30 {
		t.Errorf("%d paths: the document lost its routes", model.Model.Paths.PathItems.Len())
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
		}
	}
}

// TestServedAsJSON: the route answers the document, as JSON.
func TestServedAsJSON(t *testing.T) {
	app := fiber.New()
	(&API{}).Routes(app)
	resp, err := app.Test(httptest.NewRequest("GET", "/openapi.json", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want, _ := JSON()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(body, want) {
		t.Fatalf("GET /openapi.json: %d %s, %d bytes; want 200 application/json, the document", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
}

func TestToJSONRefusesNonStringKeys(t *testing.T) {
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"quoted status", "responses: {\"200\": {description: ok}}", true},
		{"bare status", "responses: {200: {description: ok}}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toJSON([]byte(tt.yaml))
			if (err == nil) != tt.ok {
				t.Errorf("toJSON(%s): err %v, want ok=%v", tt.yaml, err, tt.ok)
			}
		})
	}
}
