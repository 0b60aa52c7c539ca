package directory

import "context"

// MarkDistributionSent records a successful send: status sent (SentAt set
// the first time), the provider's message ID and the personal link, and no
// error. UpdateDistribution leaves empty fields as they are, so it cannot
// clear the error an earlier, failed attempt of the same distribution left;
// a distribution that was finally sent must not keep showing it.
func (s *Service) MarkDistributionSent(ctx context.Context, id, providerMessageID, link string) (*Distribution, error) {
	return s.changeDistribution(ctx, id, func(d *Distribution) {
		if d.SentAt.IsZero() {
			d.SentAt = s.now().UTC()
		}
		d.Status = StatusSent
		d.Error = ""
		if providerMessageID != "" {
			d.ProviderMessageID = providerMessageID
		}
		if link != "" {
			d.Link = link
		}
	})
}
