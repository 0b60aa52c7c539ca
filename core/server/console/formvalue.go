package console

import "github.com/gofiber/fiber/v2"

// csrfHeader is where a script may send the CSRF token instead of a form
// field.
const csrfHeader = "X-Csrf-Token"

// postedValue reads a field of the posted form (urlencoded or multipart)
// and never the query string, which fiber's FormValue falls back to: a
// secret in a URL lands in access logs, browser history and Referer
// headers, and a CSRF token accepted from the URL can be planted in a link.
func postedValue(c *fiber.Ctx, key string) string {
	if v := c.Request().PostArgs().Peek(key); len(v) > 0 {
		return string(v)
	}
	if mf, err := c.MultipartForm(); err == nil {
		if vs := mf.Value[key]; len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// csrfToken is the CSRF token of a post: the form field, or the
// X-CSRF-Token header.
func csrfToken(c *fiber.Ctx) string {
	if v := postedValue(c, csrfField); v != "" {
		return v
	}
	return c.Get(csrfHeader)
}
