// Package directoryapi serves the contact directory over the admin REST
// API. It is apart from package directory so that the directory itself
// does not depend on the HTTP framework.
package directoryapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/internal/apierror"
)

// API holds what the directory routes need.
type API struct {
	Directory *directory.Service
}

// Routes adds the directory's routes to r (mounted under the authenticated
// /api/v1 group):
//
//	GET /directories                    configured directories with contact counts
//	GET /directories/:id/contacts       ?email=&extRef=&phone= (find) or ?limit=&after= (page)
//	GET /directories/:id/lists          mailing lists with member counts
//	GET /contacts/:id                   a contact with transactions, distributions, lists
//	GET /distributions/:id              one distribution
//
// Errors are {"error": {"code", "message"}}.
func (a *API) Routes(r fiber.Router) {
	h := handlers{svc: a.Directory}
	r.Get("/directories", h.directories)
	r.Get("/directories/:id/contacts", h.contacts)
	r.Get("/directories/:id/lists", h.lists)
	r.Get("/contacts/:id", h.contact)
	r.Get("/distributions/:id", h.distribution)
}

type handlers struct{ svc *directory.Service }

func fail(c *fiber.Ctx, status int, code, msg string) error {
	return apierror.Write(c, status, code, msg, nil)
}

// failErr answers with the status err calls for.
func failErr(c *fiber.Ctx, err error) error {
	var ie *directory.InputError
	switch {
	case errors.Is(err, directory.ErrUnknownDirectory):
		return fail(c, fiber.StatusNotFound, "unknown_directory", err.Error())
	case errors.Is(err, directory.ErrNotFound):
		return fail(c, fiber.StatusNotFound, "not_found", err.Error())
	case errors.As(err, &ie):
		return fail(c, fiber.StatusBadRequest, "bad_request", err.Error())
	}
	return fail(c, fiber.StatusInternalServerError, "internal", err.Error())
}

func (h handlers) directories(c *fiber.Ctx) error {
	dirs, err := h.svc.Directories(c.UserContext())
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(fiber.Map{"directories": dirs})
}

func (h handlers) contacts(c *fiber.Ctx) error {
	dir := c.Params("id")
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > directory.MaxPage {
			return fail(c, fiber.StatusBadRequest, "bad_request", fmt.Sprintf("limit %q: want a number from 1 to %d", v, directory.MaxPage))
		}
		limit = n
	}
	q := directory.Query{Email: c.Query("email"), ExtRef: c.Query("extRef"), Phone: c.Query("phone")}
	if q != (directory.Query{}) {
		if c.Query("after") != "" {
			return fail(c, fiber.StatusBadRequest, "bad_request", "after pages the full list; it cannot be combined with email, extRef or phone")
		}
		found, err := h.svc.Find(c.UserContext(), dir, q, limit)
		if err != nil {
			return failErr(c, err)
		}
		return c.JSON(contactsBody{Contacts: nonNil(found)})
	}
	page, next, err := h.svc.ListContacts(c.UserContext(), dir, limit, c.Query("after"))
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(contactsBody{Contacts: nonNil(page), Next: next})
}

type contactsBody struct {
	Contacts []*directory.Contact `json:"contacts"`
	// Next is the after= of the next page, when there is one.
	Next string `json:"next,omitempty"`
}

func nonNil(cs []*directory.Contact) []*directory.Contact {
	if cs == nil {
		return []*directory.Contact{}
	}
	return cs
}

func (h handlers) lists(c *fiber.Ctx) error {
	lists, err := h.svc.MailingLists(c.UserContext(), c.Params("id"))
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(fiber.Map{"lists": lists})
}

func (h handlers) contact(c *fiber.Ctx) error {
	d, err := h.svc.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(d)
}

func (h handlers) distribution(c *fiber.Ctx) error {
	d, err := h.svc.Distribution(c.UserContext(), c.Params("id"))
	if err != nil {
		return failErr(c, err)
	}
	return c.JSON(fiber.Map{"distribution": d})
}
