package certio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.key")
	if err := WriteFileAtomic(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, err %v", fi.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), []byte("x"), 0o644); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestDN(t *testing.T) {
	raw := []byte{0x30, 0x1b, 0x31, 0x19, 0x30, 0x17, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x10, 'a', ',', 'b', '+', 'c', ' ', 'L', 'a', 'b', ' ', 'R', 'o', 'o', 't', ' ', ' '}
	if got := DN(raw); got != `CN=a\,b\+c Lab Root \ ` {
		t.Errorf("DN = %q", got)
	}
	if got := DN([]byte{1, 2}); !strings.HasPrefix(got, "(unparsable") {
		t.Errorf("DN of junk = %q", got)
	}
}

func TestParsePFXFormat(t *testing.T) {
	for in, want := range map[string]PFXFormat{"legacy": PFXLegacy, "MODERN": PFXModern} {
		if got, err := ParsePFXFormat(in); err != nil || got != want {
			t.Errorf("ParsePFXFormat(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "rc2", "modern2026"} {
		if _, err := ParsePFXFormat(bad); err == nil {
			t.Errorf("ParsePFXFormat(%q) accepted", bad)
		}
	}
	if _, err := EncodePFX(nil, PFXModern, nil, nil, nil, ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty PFX password: %v", err)
	}
}

func TestReadSecretFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(p, []byte("s3cret\r\n"), 0o600)
	if b, err := ReadSecretFile(p); err != nil || string(b) != "s3cret" {
		t.Errorf("ReadSecretFile = %q, %v", b, err)
	}
	os.WriteFile(p, []byte("\n"), 0o600)
	if _, err := ReadSecretFile(p); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty password file: %v", err)
	}
}
