package hub

import (
	"context"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/server/console"
)

// consoleLimit is how many contacts the console's search shows.
const consoleLimit = 50

// consoleDirectory adapts the directory service to the web console's
// Directory source (console.Options.Directory).
func consoleDirectory(svc *directory.Service) console.Directory { return consoleSource{svc} }

type consoleSource struct{ svc *directory.Service }

// FindContacts implements console.Directory.
func (s consoleSource) FindContacts(ctx context.Context, dir string, q console.ContactQuery) ([]console.Contact, error) {
	found, err := s.svc.Find(ctx, dir, directory.Query{Email: q.Email, ExtRef: q.ExtRef, Phone: q.Phone}, consoleLimit)
	if err != nil {
		return nil, err
	}
	out := make([]console.Contact, len(found))
	for i, c := range found {
		out[i] = consoleContact(c)
	}
	return out, nil
}

// Contact implements console.Directory.
func (s consoleSource) Contact(ctx context.Context, id string) (*console.ContactDetail, error) {
	d, err := s.svc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &console.ContactDetail{Contact: consoleContact(&d.Contact)}
	for _, t := range d.Transactions {
		out.Transactions = append(out.Transactions, console.Transaction{ID: t.ID, Date: t.Date, Data: t.Data})
	}
	for _, x := range d.Distributions {
		out.Distributions = append(out.Distributions, console.Distribution{
			ID: x.ID, Survey: x.SurveyID, Method: x.Method, Status: x.Status, Error: x.Error, SentAt: x.SentAt, RunID: x.RunID,
		})
	}
	for _, l := range d.MailingLists {
		out.MailingLists = append(out.MailingLists, l.Name)
	}
	return out, nil
}

func consoleContact(c *directory.Contact) console.Contact {
	return console.Contact{
		ID: c.ID, Directory: c.DirectoryID, Email: c.Email, Phone: c.Phone, ExtRef: c.ExtRef,
		FirstName: c.FirstName, LastName: c.LastName, Language: c.Language, Embedded: c.Embedded,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}
