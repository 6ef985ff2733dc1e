// Package archtest checks the repository's own rules: the package layering of
// STYLE.md and that "now" is an input.
package archtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

const mod = "github.com/cmgpki/cmgpki/"

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestNowIsAnInput fails when time.Now is called outside cmd/ and
// internal/clock: everything else takes a clock or a time.
func TestNowIsAnInput(t *testing.T) {
	root := repoRoot(t)
	re := regexp.MustCompile(`\btime\.Now\(`)
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "cmd" || rel == filepath.Join("internal", "clock") || strings.HasPrefix(d.Name(), ".") || rel == "bench" || rel == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, _ := os.ReadFile(p)
		if re.Match(b) {
			t.Errorf("%s calls time.Now; take a clock.Clock or a time instead", rel)
		}
		return nil
	})
}

// allowed lists, per package, the project packages it may import. The
// layers, lowest first:
//
//	0  lint, internal/{clock,certio,layout,derutil}
//	1  profiles (requirements and certificate rules)
//	1½ lab (the lab directory contract: manifest and loaders; imports only
//	   layers 0-1, so every reader can use it)
//	2  ca (imports lab), crl, verify: siblings that never import one another;
//	   crl's and verify's non-test code do not import lab either
//	4  cmd
var allowed = map[string][]string{
	"lint":              {},
	"internal/clock":    {},
	"internal/certio":   {},
	"internal/layout":   {},
	"internal/derutil":  {},
	"internal/pkitest":  {"internal/clock"},
	"internal/archtest": {},
	"internal/pgtest":   {},
	"internal/labtest":  {"ca", "internal/clock", "internal/pkitest"},
	// The benchmark's bare net/http baseline: standard library only.
	"bench/barehttp": {},
	// The corpus generator: the profiles' templates, nothing else.
	"internal/gentestdata": {"profiles", "lint"},
	"profiles":             {"lint"},
	"lab":                  {"profiles", "lint", "internal/certio", "internal/layout"},
	"ca":                   {"lab", "profiles", "lint", "internal/certio", "internal/clock", "internal/layout"},
	"crl":                  {"profiles", "lint", "internal/certio", "internal/clock", "internal/layout", "internal/derutil"},
	"verify":               {"profiles", "lint", "internal/certio", "internal/clock", "internal/derutil"},
	"handshake":            {"flow", "verify", "crl", "profiles", "lint", "lab", "internal/certio", "internal/clock", "internal/layout"},
	// The flow run shared by handshake and diagnose.
	"flow": {"lint"},
	// Log diagnosis reads logs only: no certificates, no network.
	"diagnose":   {"flow", "lint"},
	"cmd":        {"*"},
	"cmd/cmgpki": {"*"},
}

// TestLayering compares each package's imports with the allow-list: ca, crl
// and verify never import one another, only ca of them imports lab, and
// nothing imports cmd.
func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, mod)
		allow, ok := allowed[name]
		if !ok {
			t.Errorf("package %s is not in the layering allow-list", name)
			continue
		}
		seen++
		if len(allow) == 1 && allow[0] == "*" {
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			ok := false
			for _, a := range allow {
				ok = ok || a == dep
			}
			if !ok {
				t.Errorf("%s imports %s, which the layering forbids", name, dep)
			}
		}
	}
	if seen < 8 {
		t.Errorf("checked only %d packages", seen)
	}
}
