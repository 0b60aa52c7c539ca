package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/store"
)

func runAdminToken(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newAdminTokenCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAdminTokenRotate(t *testing.T) {
	data := t.TempDir()
	if _, err := runAdminToken(t, "rotate", "--data", data); err == nil || !strings.Contains(err.Error(), "holds no hub data") {
		t.Fatalf("rotate in an empty dir: err = %v", err)
	}
	key, err := store.LoadSecretKey(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(data, "badger"), store.Options{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Setenv("JUNCTION_ADMIN_TOKEN", "old")
	out, err := runAdminToken(t, "rotate", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`stored hashed\): jct_[A-Za-z0-9_-]{43}\n`).MatchString(out) || !strings.Contains(out, "JUNCTION_ADMIN_TOKEN is set") {
		t.Errorf("output:\n%s", out)
	}
}
