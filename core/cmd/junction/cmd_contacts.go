package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/directory"
)

// newContactsCmd is `junction contacts`: look up the contact directories of
// a running hub through its admin API.
func newContactsCmd() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{Use: "contacts", Short: "Find and show contacts of the directories (kind: Directory)"}
	addClientFlags(cmd, &server, &token)

	var dir, email, extRef, phone, after string
	var limit int
	var asJSON bool
	find := &cobra.Command{
		Use:   "find --directory ID [--email E] [--ext-ref R] [--phone P]",
		Short: "Find contacts by email, external reference or phone (every one given must match)",
		Long: "find looks contacts up as the directory's dedup rules compare them: ignoring case and\n" +
			"surrounding spaces, and a phone by its digits and leading +. Without --email, --ext-ref or\n" +
			"--phone it lists the directory, oldest first (--limit, --after for the next page).",
		Example: "  junction contacts find --directory POOL_demo --email ann.lee@example.com\n" +
			"  junction contacts find --directory POOL_demo --phone '+1 555 010 0200' --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{errors.New("contacts find: --directory is required (see junction contacts directories)")}
			}
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"email": email, "extRef": extRef, "phone": phone, "after": after} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", strconv.Itoa(limit))
			// Printed as received, so that embedded numbers keep their digits.
			var raw json.RawMessage
			if err := c.do(cmd.Context(), "GET", "/directories/"+url.PathEscape(dir)+"/contacts", q, nil, &raw); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			var res struct {
				Contacts []*directory.Contact `json:"contacts"`
				Next     string               `json:"next"`
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				return fmt.Errorf("decode contacts: %w", err)
			}
			if len(res.Contacts) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no contact in %s matches\n", dir)
				return nil
			}
			printContacts(cmd.OutOrStdout(), res.Contacts)
			if res.Next != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --after %s\n", res.Next)
			}
			return nil
		},
	}
	find.Flags().StringVar(&dir, "directory", "", "the directory's ID, e.g. POOL_demo (required)")
	find.Flags().StringVar(&email, "email", "", "email address")
	find.Flags().StringVar(&extRef, "ext-ref", "", "external reference")
	find.Flags().StringVar(&phone, "phone", "", "phone number")
	find.Flags().IntVar(&limit, "limit", 50, fmt.Sprintf("at most this many contacts (1 to %d)", directory.MaxPage))
	find.Flags().StringVar(&after, "after", "", "list the contacts created after this contact ID (paging)")
	find.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a contact with its embedded data, transactions (by date), distributions and mailing lists",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.do(cmd.Context(), "GET", "/contacts/"+url.PathEscape(args[0]), nil, nil, &raw); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), raw)
		},
	}

	dirs := &cobra.Command{
		Use:   "directories",
		Short: "List the configured directories with their dedup rules and contact counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			var res struct {
				Directories []directory.DirectoryInfo `json:"directories"`
			}
			if err := c.do(cmd.Context(), "GET", "/directories", nil, nil, &res); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tDEDUP\tCONTACTS")
			for _, d := range res.Directories {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.ID, d.DisplayName, strings.Join(d.Dedup, ", "), d.Contacts)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(find, show, dirs)
	return cmd
}

func printContacts(w io.Writer, cs []*directory.Contact) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tFIRST NAME\tLAST NAME\tPHONE\tEXT REF\tUPDATED")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, dash(c.Email), dash(c.FirstName), dash(c.LastName),
			dash(c.Phone), dash(c.ExtRef), c.UpdatedAt.Local().Format(time.DateTime))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
