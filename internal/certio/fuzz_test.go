package certio

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// Fuzz targets for every input parser. Seeds live in
// testdata/fuzz/<FuzzName>/: "valid-*" files are real files (made by
// TestFuzzSeeds with -update-seeds, from a test PKI and openssl) and
// "trunc-*" files are the same cut short. Run one target with
//
//	go test -run XXX -fuzz FuzzPFX -fuzztime 20s ./internal/certio
//
// The property is always: no panic, and a successful parse returns what it
// promises.

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

const fuzzPassword = "s3cret"

func checkBundle(t *testing.T, b *Bundle, err error) {
	if err != nil {
		if b != nil {
			t.Fatalf("bundle and error %v", err)
		}
		if !strings.HasPrefix(err.Error(), "f: ") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	if len(b.Certs) == 0 && len(b.CRLs) == 0 {
		t.Fatal("bundle without certificate or CRL")
	}
	for _, c := range b.Certs {
		if c == nil {
			t.Fatal("nil certificate")
		}
	}
	if b.Format == FormatPKCS12 && b.PFX == nil {
		t.Fatal("PFX without PFXInfo")
	}
}

func FuzzPEMBundle(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle("f", data, ReadOptions{Password: []byte(fuzzPassword)})
		checkBundle(t, b, err)
		_, _ = parsePEMBundle(data, ReadOptions{})
	})
}

func FuzzDER(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle("f", data, ReadOptions{})
		checkBundle(t, b, err)
		_, _ = sniffDER(data)
		_, _ = parseLeadingCertificate(data)
		_ = looksLikeCRL(data)
	})
}

func FuzzPFX(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParsePFXInfo(data)
		if err == nil {
			_ = info.String()
			_ = info.AESOnly()
		}
		b, err := ParseBundle("f", data, ReadOptions{Password: []byte(fuzzPassword)})
		checkBundle(t, b, err)
	})
}

func FuzzPKCS7(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, crls, err := ParsePKCS7(data)
		if err == nil {
			for _, c := range certs {
				if c == nil {
					t.Fatal("nil certificate")
				}
			}
			for _, c := range crls {
				if c == nil {
					t.Fatal("nil CRL")
				}
			}
		}
		b, err := ParseBundle("f", data, ReadOptions{})
		checkBundle(t, b, err)
	})
}

func FuzzCRL(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle("f", data, ReadOptions{})
		checkBundle(t, b, err)
	})
}

// seedFiles returns the valid seeds of each fuzz target, built from a test
// PKI and openssl.
func seedFiles(t *testing.T) map[string]map[string][]byte {
	p := newTestPKI(t)
	chain := p.read(t, "chain.pem")
	text := pkitest.MustRun(t, "x509", "-in", p.path("leaf.pem"), "-text")
	pkitest.MustRun(t, "crl2pkcs7", "-nocrl", "-certfile", p.path("chain.pem"), "-outform", "DER", "-out", p.path("chain.p7b"))
	pkitest.MustRun(t, "crl2pkcs7", "-in", p.path("crl.pem"), "-certfile", p.path("leaf.pem"), "-outform", "DER", "-out", p.path("crl.p7b"))
	pkitest.MustRun(t, "pkcs12", "-export", "-in", p.path("leaf.pem"), "-inkey", p.path("key.pem"), "-certfile", p.path("chain.pem"),
		"-passout", "pass:"+fuzzPassword, "-out", p.path("aes.pfx"))
	pkitest.MustRun(t, "pkcs12", "-export", "-in", p.path("leaf.pem"), "-inkey", p.path("key.pem"),
		"-passout", "pass:"+fuzzPassword, "-descert", "-out", p.path("descert.pfx"))
	legacy, err := EncodePFX(rand.Reader, PFXLegacy, p.key, p.leaf, []*x509.Certificate{p.ica}, fuzzPassword)
	if err != nil {
		t.Fatal(err)
	}
	p7 := p.read(t, "chain.p7b")
	return map[string]map[string][]byte{
		"FuzzPEMBundle": {
			"chain":        chain,
			"crlf":         bytes.ReplaceAll(chain, []byte("\n"), []byte("\r\n")),
			"bom":          append([]byte{0xEF, 0xBB, 0xBF}, chain...),
			"openssl-text": []byte(text),
			"key-and-cert": append(p.read(t, "key.pem"), p.read(t, "leaf.pem")...),
			"pkcs7":        pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: p7}),
			"crl":          p.read(t, "crl.pem"),
		},
		"FuzzDER": {
			"leaf":  p.leaf.Raw,
			"root":  p.root.Raw,
			"chain": append(append([]byte{}, p.leaf.Raw...), p.ica.Raw...),
		},
		"FuzzPFX": {
			"openssl-aes":     p.read(t, "aes.pfx"),
			"openssl-descert": p.read(t, "descert.pfx"),
			"cmgpki-legacy":   legacy,
		},
		"FuzzPKCS7": {
			"chain":    p7,
			"with-crl": p.read(t, "crl.p7b"),
		},
		"FuzzCRL": {
			"der": p.crl.Raw,
			"pem": p.read(t, "crl.pem"),
		},
	}
}

// TestFuzzSeeds checks that every committed "valid-*" seed still parses
// (so the corpora start from real files) and, with -update-seeds, rewrites
// the corpora.
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		for target, seeds := range seedFiles(t) {
			dir := filepath.Join("testdata", "fuzz", target)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range seeds {
				writeSeed(t, filepath.Join(dir, "valid-"+name), data)
				writeSeed(t, filepath.Join(dir, "trunc-"+name), data[:len(data)*2/3])
			}
		}
	}
	for _, target := range []string{"FuzzPEMBundle", "FuzzDER", "FuzzPFX", "FuzzPKCS7", "FuzzCRL"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		valid, trunc := 0, 0
		for _, f := range files {
			data := readSeed(t, f)
			_, err := ParseBundle("f", data, ReadOptions{Password: []byte(fuzzPassword)})
			switch {
			case strings.HasPrefix(filepath.Base(f), "valid-"):
				valid++
				if err != nil {
					t.Errorf("%s: %v", f, err)
				}
			case strings.HasPrefix(filepath.Base(f), "trunc-"):
				trunc++
				if err == nil && target != "FuzzPEMBundle" {
					t.Errorf("%s: a truncated seed parses", f)
				}
			}
		}
		if valid == 0 || trunc == 0 {
			t.Errorf("%s: %d valid and %d truncated seeds; run go test -run TestFuzzSeeds -update-seeds ./internal/certio", target, valid, trunc)
		}
	}
}

func writeSeed(t *testing.T, path string, data []byte) {
	t.Helper()
	s := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lit, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")\n")
	if !ok || !ok2 {
		t.Fatalf("%s: not a go test fuzz v1 []byte seed", path)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
