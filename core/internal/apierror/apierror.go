// Package apierror renders the admin REST API's one error shape,
// {"error":{"code","message","details"}}, for the server and every api
// package. It lives under core/internal, not core/server, because an api
// package must not import the server that registers it.
package apierror

import "github.com/gofiber/fiber/v2"

// Body is the JSON body of an API error.
type Body struct {
	Error Detail `json:"error"`
}

// Detail is what went wrong: a stable code for programs, a message for
// people, and optional details (omitted when nil).
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// Write answers with status and the error shape.
func Write(c *fiber.Ctx, status int, code, msg string, details any) error {
	return c.Status(status).JSON(Body{Error: Detail{Code: code, Message: msg, Details: details}})
}
