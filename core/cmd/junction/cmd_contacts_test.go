package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/directory/directoryapi"
	"github.com/junctionhub/junction/core/store"
)

// contactsServer serves the directory API behind a bearer token on
// loopback, as the hub mounts it.
func contactsServer(t *testing.T) (string, *directory.Service) {
	t.Helper()
	st, err := store.Open(context.Background(), "", store.Options{
		InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := directory.New(st, []*config.Directory{{Name: "POOL_demo", Dedup: [][]string{{"email"}}}})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	api := app.Group("/api/v1", func(c *fiber.Ctx) error {
		if c.Get("Authorization") != "Bearer tok" {
			return c.Status(401).JSON(fiber.Map{"error": fiber.Map{"code": "unauthorized", "message": "bad token"}})
		}
		return c.Next()
	})
	a := &directoryapi.API{Directory: svc}
	a.Routes(api)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := app.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), svc
}

func runContacts(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newContactsCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestContactsCommand(t *testing.T) {
	url, svc := contactsServer(t)
	ctx := context.Background()
	ann, _, err := svc.Upsert(ctx, "POOL_demo", directory.ContactInput{
		Email: "ann.lee@example.com", FirstName: "Ann", LastName: "Lee", Phone: "+1 555 010 0200",
		Embedded: map[string]any{"account": uint64(12345678901234567890)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddTransaction(ctx, "POOL_demo", directory.ContactInput{Email: "ann.lee@example.com"},
		directory.TxInput{Data: map[string]any{"order": "ord_1"}}, ""); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--server", url, "--token", "tok"}

	out, err := runContacts(t, append([]string{"find", "--directory", "POOL_demo", "--email", "ANN.LEE@example.com"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ann.ID) || !strings.Contains(out, "ann.lee@example.com") || !strings.HasPrefix(out, "ID ") {
		t.Errorf("find --email printed:\n%s", out)
	}
	out, err = runContacts(t, append([]string{"find", "--directory", "POOL_demo", "--phone", "+15550100200", "--json"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"id": "`+ann.ID+`"`) || !strings.Contains(out, `"account": 12345678901234567890`) {
		t.Errorf("find --phone --json printed (embedded numbers must keep their digits):\n%s", out)
	}
	out, err = runContacts(t, append([]string{"find", "--directory", "POOL_demo", "--ext-ref", "nobody"}, flags...)...)
	if err != nil || out != "no contact in POOL_demo matches\n" {
		t.Errorf("no match: %q, %v", out, err)
	}
	out, err = runContacts(t, append([]string{"show", ann.ID}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"transactions": [`, `"order": "ord_1"`, `"distributions": []`, `"firstName": "Ann"`} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %s:\n%s", want, out)
		}
	}
	out, err = runContacts(t, append([]string{"directories"}, flags...)...)
	if err != nil || !strings.Contains(out, "POOL_demo") || !strings.Contains(out, "email") {
		t.Errorf("directories: %q, %v", out, err)
	}

	// Errors carry the API's message; a missing --directory is a usage error.
	_, err = runContacts(t, append([]string{"find", "--directory", "POOL_x", "--email", "a@b.c"}, flags...)...)
	if err == nil || err.Error() != `unknown directory "POOL_x" (configured: POOL_demo)` {
		t.Errorf("unknown directory: %v", err)
	}
	_, err = runContacts(t, append([]string{"show", "CID_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, flags...)...)
	if err == nil || err.Error() != "contact CID_01ARZ3NDEKTSV4RRFFQ69G5FAV: not found" {
		t.Errorf("unknown contact: %v", err)
	}
	_, err = runContacts(t, append([]string{"find", "--email", "a@b.c"}, flags...)...)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("find without --directory: %v, want a usage error", err)
	}
	_, err = runContacts(t, "find", "--directory", "POOL_demo", "--server", url, "--token", "wrong")
	if err == nil || err.Error() != "bad token" {
		t.Errorf("wrong token: %v", err)
	}
}
