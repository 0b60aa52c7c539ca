package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/connector"
)

// showSetup prints `junction connection show NAME --setup [--reveal]`: the
// steps as text to copy, one titled block each.
func showSetup(cmd *cobra.Command, c *apiClient, name string, setup, reveal bool) error {
	if !setup {
		return usageError{errors.New("--reveal goes with --setup: junction connection show NAME --setup --reveal")}
	}
	path := "/connections/" + url.PathEscape(name) + "/setup"
	if reveal {
		path += "?reveal=true"
	}
	var res struct {
		Setup connector.Setup `json:"setup"`
	}
	if err := c.do(cmd.Context(), "GET", path, nil, nil, &res); err != nil {
		return err
	}
	s, out := res.Setup, cmd.OutOrStdout()
	fmt.Fprintf(out, "Setup of %s (%s)\n", s.Connection, s.Connector)
	if s.BaseFrom == connector.BaseFromRequest {
		fmt.Fprintf(out, "Base URL %s is the address this command reached; set Settings public_url to the one senders use.\n", s.BaseURL)
	}
	if s.Note != "" {
		fmt.Fprintf(out, "\n%s.\n", s.Note)
	}
	for _, st := range s.Steps {
		fmt.Fprintf(out, "\n# %s\n%s\n", st.Title, st.Text)
		if st.Help != "" {
			fmt.Fprintf(out, "  (%s)\n", st.Help)
		}
	}
	if !s.Revealed && strings.Contains(joinSteps(s.Steps), connector.Redacted) {
		fmt.Fprintf(out, "\nCredentials read %s: add --reveal to print them.\n", connector.Redacted)
	}
	return nil
}

func joinSteps(steps []connector.SetupResult) string {
	var b strings.Builder
	for _, st := range steps {
		b.WriteString(st.Text)
	}
	return b.String()
}
