package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	if err := os.WriteFile(file, []byte("  from-file-1,from-file-2 \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readSecret(" from-flag ", file, "app-secret", true); err != nil || got != "from-flag,from-file-1,from-file-2" {
		t.Errorf("list from flag and file: %q %v", got, err)
	}
	if _, err := readSecret("from-flag", file, "verify-token", false); err == nil || strings.Contains(err.Error(), "from-") {
		t.Errorf("a single secret from both: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := readSecret("", empty, "app-secret", true); err == nil {
		t.Error("an empty secret file must be an error")
	}
	if _, err := readSecret("", filepath.Join(dir, "missing"), "app-secret", true); err == nil || !strings.Contains(err.Error(), "--app-secret-file") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestGatewayWithoutSecretExits2(t *testing.T) {
	t.Setenv("WAPIPE_APP_SECRET", "")
	err := gatewayCmd(context.Background(), []string{"--listen", "127.0.0.1:0"})
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 2 || !strings.Contains(err.Error(), "no app secret") {
		t.Errorf("no secret: %v", err)
	}
}
