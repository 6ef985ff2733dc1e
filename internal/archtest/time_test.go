package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goFiles calls f for every .go file of the repository outside hidden
// directories and testdata, with its path relative to the root.
func goFiles(t *testing.T, f func(rel string, src []byte)) {
	t.Helper()
	root := repoRoot(t)
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if (rel != "." && strings.HasPrefix(d.Name(), ".")) || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			n++
			f(filepath.ToSlash(rel), b)
		}
		return nil
	})
	if n < 20 {
		t.Errorf("checked only %d Go files", n)
	}
}

// TestOpenSSLOnlyThroughPkitest fails when Go code outside internal/pkitest
// starts openssl itself. pkitest.Run refuses openssl command lines that would
// check a pinned-time artifact against the real clock (verify or s_client
// without -attime, ocsp without -attime and -validity_period); running
// openssl another way would bypass that guard.
func TestOpenSSLOnlyThroughPkitest(t *testing.T) {
	re := regexp.MustCompile(`exec\.Command(Context)?\([^\n]*("openssl"|OpenSSL\()`)
	goFiles(t, func(rel string, src []byte) {
		if strings.HasPrefix(rel, "internal/pkitest/") {
			return
		}
		if loc := re.FindIndex(src); loc != nil {
			line := 1 + strings.Count(string(src[:loc[0]]), "\n")
			t.Errorf("%s:%d runs openssl directly; use pkitest.Run or pkitest.MustRun, which check that times are pinned", rel, line)
		}
	})
}

// TestVerifyTimeIsAnInput fails on an x509.VerifyOptions literal without
// CurrentTime (outside cmd/, which may verify at the real now), and on a
// tls.Config literal without Time in a test: both would read the real clock,
// and tests make their certificates at the pinned time pkitest.At.
func TestVerifyTimeIsAnInput(t *testing.T) {
	goFiles(t, func(rel string, src []byte) {
		isTest := strings.HasSuffix(rel, "_test.go")
		if !isTest && (strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "internal/clock/")) {
			return
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			var need string
			switch {
			case pkg.Name == "x509" && sel.Sel.Name == "VerifyOptions":
				need = "CurrentTime"
			case pkg.Name == "tls" && sel.Sel.Name == "Config" && isTest:
				need = "Time"
			default:
				return true
			}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == need {
						return true
					}
				}
			}
			t.Errorf("%s: %s.%s{...} without %s reads the real clock; set it (tests: pkitest.At)", fset.Position(lit.Pos()), pkg.Name, sel.Sel.Name, need)
			return true
		})
	})
}
