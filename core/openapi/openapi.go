// Package openapi serves the OpenAPI 3.1 contract of the admin REST API at
// GET /api/v1/openapi.json.
//
// The contract is a maintained source file, openapi.yaml, next to this
// one, not generated from the handlers: a reviewer reads the API's shape in
// one place, and a change of shape shows up in the diff. Two tests keep it
// true: core/server/openapi_routes_test.go fails when a route of the
// router is not in the document or a documented route does not exist, and
// the e2e suite validates every /api/v1 response it receives against it.
//
// The route sits behind the admin token like the rest of /api/v1: one rule
// for the whole prefix is easier to keep right than exceptions, and the
// document is in the repository for anyone without a token.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var source []byte

// YAML is the contract as written.
func YAML() []byte { return source }

var (
	once   sync.Once
	doc    []byte
	docErr error
)

// JSON is the contract as JSON, converted once from the embedded YAML.
func JSON() ([]byte, error) {
	once.Do(func() { doc, docErr = toJSON(source) })
	return doc, docErr
}

// toJSON converts a YAML document to JSON. OpenAPI documents key every map
// by string (status codes are quoted in openapi.yaml), which is what JSON
// needs; a key of another type is an error, not a silent rename.
func toJSON(y []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := checkKeys(v, "$"); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	return b, nil
}

func checkKeys(v any, at string) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if err := checkKeys(e, at+"."+k); err != nil {
				return err
			}
		}
	case map[any]any:
		return fmt.Errorf("%s: a key that is not a string (quote status codes)", at)
	case []any:
		for i, e := range t {
			if err := checkKeys(e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// API serves the document.
type API struct{}

// Routes adds GET /openapi.json under r (mounted at /api/v1, behind the
// admin token).
func (*API) Routes(r fiber.Router) {
	r.Get("/openapi.json", func(c *fiber.Ctx) error {
		b, err := JSON()
		if err != nil {
			return fmt.Errorf("openapi document: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(b)
	})
}
