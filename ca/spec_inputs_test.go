package ca

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadSpecKeysAndDocuments: unknown keys name the line and the closest
// key; a second document is refused; a trailing "---" is not a document.
func TestReadSpecKeysAndDocuments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, spec, want string }{
		{"typo", "domain: contoso.com\nclinets: 3\n", `line 2: unknown key "clinets" (did you mean "clients"?)`},
		{"nested", "connection_point:\n  sans: [a.contoso.com]\n  cname: x\n", `line 3: unknown key "cname" in connection_point (did you mean "cn"?)`},
		{"second document", "clients: 1\n---\ndevices: 2\n", "line 2: a second YAML document"},
		{"trailing separator", "clients: 1\n---\n", ""},
		{"leading separator", "---\nclients: 1\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(p, []byte(tc.spec), 0o644)
			s, err := ReadSpec(p)
			if tc.want == "" {
				if err != nil || s.Clients == nil || *s.Clients != 1 {
					t.Fatalf("ReadSpec: %+v, %v", s, err)
				}
				return
			}
			var se *SpecError
			if !errors.As(err, &se) || se.Source != p || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadSpec error %v, want a *SpecError for %s with %q", err, p, tc.want)
			}
		})
	}
}

// TestExpandNotes: a lab-wide key type that WPJ certificates cannot take is
// a note, not an error and not silent.
func TestExpandNotes(t *testing.T) {
	x, err := (&LabSpec{KeyType: "rsa4096"}).Expand()
	if err != nil || len(x.Notes) != 1 || !strings.Contains(x.Notes[0], "--key-type rsa4096 does not apply to wpj-device") {
		t.Errorf("rsa4096: %v %q", err, x.Notes)
	}
	x, err = (&LabSpec{KeyType: "p256", CAOnly: true, Source: "lab.yaml"}).Expand()
	if err != nil || len(x.Notes) != 1 || !strings.Contains(x.Notes[0], "the wpj-ca is rsa2048: lab.yaml: key_type p256 does not apply") {
		t.Errorf("p256 CAs: %v %q", err, x.Notes)
	}
	x, err = (&LabSpec{KeyType: "p256", CAOnly: true, NoWPJCA: true}).Expand()
	if err != nil || len(x.Notes) != 0 {
		t.Errorf("no WPJ CA: %v %q", err, x.Notes)
	}
}
