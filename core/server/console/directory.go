package console

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

type directoryView struct {
	base
	Available   bool
	Directories []directoryOption
	Directory   string
	Query       string
	Searched    bool
	Contacts    []Contact
	Error       string
}

type directoryOption struct{ Name, Label string }

// directoryPage searches one directory by email or external ID. The one
// search box tries both, so an operator need not know which one a sender
// used.
func (con *Console) directoryPage(c *fiber.Ctx) error {
	v := &directoryView{Available: con.o.Directory != nil, Directory: c.Query("directory"), Query: strings.TrimSpace(c.Query("q"))}
	v.Title, v.Section = "Directory", "directory"
	for _, d := range con.bundle().Directories {
		label := d.Name
		if d.DisplayName != "" {
			label = d.DisplayName + " (" + d.Name + ")"
		}
		v.Directories = append(v.Directories, directoryOption{Name: d.Name, Label: label})
	}
	if v.Directory == "" && len(v.Directories) > 0 {
		v.Directory = v.Directories[0].Name
	}
	if !v.Available || v.Query == "" {
		return con.render(c, fiber.StatusOK, "directory", v)
	}
	if con.bundle().Directory(v.Directory) == nil {
		v.Error = fmt.Sprintf("There is no directory %q.", v.Directory)
		return con.render(c, fiber.StatusBadRequest, "directory", v)
	}
	v.Searched = true
	seen := map[string]bool{}
	for _, q := range []ContactQuery{{Email: v.Query}, {ExtRef: v.Query}} {
		found, err := con.o.Directory.FindContacts(c.UserContext(), v.Directory, q)
		if err != nil {
			v.Error = fmt.Sprintf("Search failed: %v", err)
			return con.render(c, fiber.StatusInternalServerError, "directory", v)
		}
		for _, ct := range found {
			if !seen[ct.ID] {
				seen[ct.ID] = true
				v.Contacts = append(v.Contacts, ct)
			}
		}
	}
	return con.render(c, fiber.StatusOK, "directory", v)
}

type contactView struct {
	base
	Contact  *ContactDetail
	Embedded []configRow
}

func (con *Console) contactPage(c *fiber.Ctx) error {
	if con.o.Directory == nil {
		v := &directoryView{}
		v.Title, v.Section = "Directory", "directory"
		return con.render(c, fiber.StatusOK, "directory", v)
	}
	id := c.Params("id")
	ct, err := con.o.Directory.Contact(c.UserContext(), id)
	if isNotFound(err) || (err == nil && ct == nil) {
		return con.notFound(c, fmt.Sprintf("There is no contact %q.", id))
	}
	if err != nil {
		return fmt.Errorf("get contact %s: %w", id, err)
	}
	v := &contactView{Contact: ct}
	v.Title, v.Section = "Contact "+contactName(ct.Contact), "directory"
	for _, k := range sortedKeys(ct.Embedded) {
		v.Embedded = append(v.Embedded, configRow{Key: k, Value: cellText(ct.Embedded[k])})
	}
	// Time order, oldest first, as a history reads.
	sort.SliceStable(ct.Transactions, func(i, j int) bool { return ct.Transactions[i].Date.Before(ct.Transactions[j].Date) })
	sort.SliceStable(ct.Distributions, func(i, j int) bool { return ct.Distributions[i].SentAt.Before(ct.Distributions[j].SentAt) })
	return con.render(c, fiber.StatusOK, "contact", v)
}

func contactName(c Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return c.ID
}
