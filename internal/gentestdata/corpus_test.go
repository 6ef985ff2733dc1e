package gentestdata

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus from the generator")

// corpusDir is the corpus this package generates (its output, not another
// package's fixtures).
var corpusDir = filepath.Join("..", "..", "testdata", "corpus")

// TestCorpus fails when the committed corpus is not what Generate makes
// (byte for byte: the generator is deterministic) or holds a generated
// file the generator no longer makes; with -update it rewrites it.
func TestCorpus(t *testing.T) {
	if *update {
		if err := Generate(corpusDir); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s: two runs of the generator differ; it must be deterministic", name)
		}
		got, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is not current (run go generate ./internal/gentestdata and review the diff)", name)
		}
	}
	filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && rel == "openssl" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(rel, ".pem") && files[rel] == nil {
			t.Errorf("%s is in the corpus but not made by the generator (delete it, or add its case)", rel)
		}
		return nil
	})
}

func readManifest(t *testing.T) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Schema != ManifestSchema || len(m.Cases) < 40 {
		t.Fatalf("cases.json: schema %q, %d cases", m.Schema, len(m.Cases))
	}
	return m
}

// TestCorpusFindings judges every corpus certificate as its role at its
// time and asserts the exact set of rules it trips (notice, warn, error)
// and their levels: a good case trips none, a bad case exactly its
// expectation. Every certificate rule is tripped by at least one case.
func TestCorpusFindings(t *testing.T) {
	m := readManifest(t)
	tripped := map[string]bool{}
	for _, c := range m.Cases {
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			b, err := certio.ReadCertificates(filepath.Join(corpusDir, filepath.FromSlash(c.File)), certio.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := profiles.Get(c.Role)
			if err != nil {
				t.Fatal(err)
			}
			rep := profiles.LintSubject(profiles.Subject{Cert: b.Certs[0], Profile: p, ExpectedNames: c.Names, ComputerName: c.Computer}, lint.Env{At: c.At})
			got := map[string]string{}
			for _, r := range rep.Results {
				if r.Status >= lint.Notice {
					got[r.Rule] = r.Status.String()
					tripped[r.Rule] = true
					if r.Status == lint.Fatal {
						t.Errorf("%s could not run: %s", r.Rule, r.Details)
					}
				}
			}
			if !mapsEqual(got, c.Expect) {
				t.Errorf("%s trips %v, want %v", c.File, got, c.Expect)
				for _, r := range rep.AtLeast(lint.Notice) {
					t.Logf("  %s %s: %s", r.Rule, r.Status, r.Details)
				}
			}
			if c.Rule == "good" && len(c.Expect) != 0 {
				t.Errorf("a good case expects findings: %v", c.Expect)
			}
			if c.Rule != "good" {
				if _, ok := c.Expect[c.Rule]; !ok {
					t.Errorf("case is filed under %s but does not expect it", c.Rule)
				}
			}
		})
	}
	for _, meta := range profiles.Rules().Rules() {
		if !tripped[meta.Name] {
			t.Errorf("no corpus case trips %s", meta.Name)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestOpenSSLCorpus checks that the openssl-made certificates are the
// real-world encodings README.md says they are, and that openssl itself
// reads every generated good certificate.
func TestOpenSSLCorpus(t *testing.T) {
	ext := func(file string) []string {
		b, err := certio.ReadCertificates(filepath.Join(corpusDir, "openssl", file), certio.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range b.Certs[0].Extensions {
			ids = append(ids, e.Id.String())
		}
		return ids
	}
	for _, tc := range []struct {
		file         string
		want, absent []string
	}{
		{"adcs-web-server.pem", []string{"1.3.6.1.4.1.311.20.2", "1.3.6.1.4.1.311.21.10", "2.5.29.31"}, nil},
		{"adcs-workstation.pem", []string{"1.3.6.1.4.1.311.21.7", "1.3.6.1.4.1.311.21.10", "2.5.29.17"}, nil},
		{"mp-cn-only.pem", []string{"2.5.29.37"}, []string{"2.5.29.17"}},
		{"client-sha1.pem", []string{"2.5.29.37"}, nil},
	} {
		got := ext(tc.file)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s lacks extension %s (has %v)", tc.file, w, got)
			}
		}
		for _, a := range tc.absent {
			if slices.Contains(got, a) {
				t.Errorf("%s has extension %s", tc.file, a)
			}
		}
	}
	out := pkitest.MustRun(t, "x509", "-noout", "-text", "-in", filepath.Join(corpusDir, "openssl", "client-sha1.pem"))
	if !strings.Contains(out, "sha1WithRSAEncryption") {
		t.Errorf("client-sha1.pem is not signed with SHA-1:\n%s", out)
	}
	for _, c := range readManifest(t).Cases {
		if c.Rule == "good" && c.Maker == "go" {
			pkitest.MustRun(t, "x509", "-noout", "-in", filepath.Join(corpusDir, filepath.FromSlash(c.File)))
		}
	}
	// The whole corpus chains to its CAs in openssl's eyes too, at the
	// pinned time of the corpus.
	ca := filepath.Join(corpusDir, "ca")
	pkitest.MustRun(t, "verify", "-attime", strconvUnix(), "-CAfile", filepath.Join(ca, "root-ca.pem"),
		"-untrusted", filepath.Join(ca, "issuing-ca.pem"), filepath.Join(corpusDir, "good", "mp-https.pem"), filepath.Join(corpusDir, "openssl", "adcs-web-server.pem"))
}

func strconvUnix() string { return strconv.FormatInt(At.Unix(), 10) }
