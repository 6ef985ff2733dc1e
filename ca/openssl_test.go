package ca

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// TestOpenSSLInterop checks every role's certificate with openssl: the chain
// and purpose, the EKU and key usage text, both PFX formats with the password,
// and the WPJ extension bytes.
func TestOpenSSLInterop(t *testing.T) {
	pkitest.OpenSSL(t)
	dir, m := makeLab(t, nil, LabOptions{})
	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	root, issuing, wpj := p("ca/root-ca.crt"), p("ca/issuing-ca.crt"), p("ca/wpj-ca.crt")
	pw := p(m.PFXPasswordFile)

	for _, tc := range []struct {
		name, purpose, eku, ku, pfxAlg string
		root, untrusted                string
		critEKU                        bool
	}{
		{"cmg-server", "sslserver", "TLS Web Server Authentication", "Digital Signature, Key Encipherment", "pbeWithSHA1And3-KeyTripleDES-CBC", root, issuing, false},
		{"mp-https", "sslserver", "TLS Web Server Authentication", "Digital Signature, Key Encipherment", "AES-256-CBC", root, issuing, false},
		{"cmg-connection-point", "sslclient", "TLS Web Client Authentication", "Digital Signature, Key Encipherment", "AES-256-CBC", root, issuing, false},
		{"client01", "sslclient", "TLS Web Client Authentication", "Digital Signature, Key Encipherment", "AES-256-CBC", root, issuing, false},
		{"device01", "sslclient", "TLS Web Client Authentication", "", "AES-256-CBC", wpj, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := m.Find(tc.name)
			if !ok {
				t.Fatalf("%s not in manifest", tc.name)
			}
			// Real WPJ device certificates carry no AKI, which -x509_strict
			// rejects; the lab copies that layout on purpose.
			strict := "-x509_strict"
			if tc.critEKU {
				strict = "-no-CAstore"
			}
			args := []string{"verify", strict, "-purpose", tc.purpose, "-CAfile", tc.root, "-attime", pkitest.AtUnix()}
			if tc.untrusted != "" {
				args = append(args, "-untrusted", tc.untrusted)
			}
			out := pkitest.MustRun(t, append(args, p(e.Files.Cert))...)
			if !strings.Contains(out, ": OK") {
				t.Errorf("openssl verify: %s", out)
			}
			// The wrong purpose must fail: server certs are not client certs and vice versa.
			wrong := map[string]string{"sslserver": "sslclient", "sslclient": "sslserver"}[tc.purpose]
			args[3] = wrong
			if out, err := pkitest.Run(t, append(args, p(e.Files.Cert))...); err == nil {
				t.Errorf("openssl verify -purpose %s passed: %s", wrong, out)
			}
			text := pkitest.MustRun(t, "x509", "-in", p(e.Files.Cert), "-noout", "-text")
			ekuRE := regexp.MustCompile(`X509v3 Extended Key Usage: ?(critical)?\n\s+(.*)\n`)
			mm := ekuRE.FindStringSubmatch(text)
			if mm == nil || mm[2] != tc.eku || (mm[1] != "") != tc.critEKU {
				t.Errorf("EKU = %q, want %q critical=%t", mm, tc.eku, tc.critEKU)
			}
			kuRE := regexp.MustCompile(`X509v3 Key Usage: critical\n\s+(.*)\n`)
			if k := kuRE.FindStringSubmatch(text); (tc.ku == "" && k != nil) || (tc.ku != "" && (k == nil || k[1] != tc.ku)) {
				t.Errorf("key usage = %q, want %q", k, tc.ku)
			}
			if !strings.Contains(text, "Signature Algorithm: sha256WithRSAEncryption") {
				t.Error("not signed sha256WithRSAEncryption")
			}
			info := pkitest.MustRun(t, "pkcs12", "-in", p(e.Files.PFX), "-passin", "file:"+pw, "-info", "-nokeys", "-nocerts")
			if !strings.Contains(info, tc.pfxAlg) || strings.Contains(info, "RC2") {
				t.Errorf("PFX encryption: want %s, no RC2:\n%s", tc.pfxAlg, info)
			}
			certs := pkitest.MustRun(t, "pkcs12", "-in", p(e.Files.PFX), "-passin", "file:"+pw, "-nokeys")
			if n, want := strings.Count(certs, "BEGIN CERTIFICATE"), chainLen(*e)+1; n != want {
				t.Errorf("PFX holds %d certificates, want %d (full chain)", n, want)
			}
			if _, err := pkitest.Run(t, "pkcs12", "-in", p(e.Files.PFX), "-passin", "pass:wrong", "-noout"); err == nil {
				t.Error("PFX opened with a wrong password")
			}
		})
	}

	// WPJ device extensions: exact bytes as openssl sees them.
	dev, _ := m.Find("device01")
	asn := pkitest.MustRun(t, "asn1parse", "-in", p(dev.Files.Cert))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`:1\.2\.840\.113556\.1\.5\.284\.1\n.*OCTET STRING\s+\[HEX DUMP\]:048110[0-9A-F]{32}\n`),
		regexp.MustCompile(`:1\.2\.840\.113556\.1\.5\.284\.2\n.*OCTET STRING\s+\[HEX DUMP\]:048110[0-9A-F]{32}\n`),
		regexp.MustCompile(`:1\.2\.840\.113556\.1\.5\.284\.7\n.*OCTET STRING\s+\[HEX DUMP\]:04810131\n`),
	} {
		if !want.MatchString(asn) {
			t.Errorf("asn1parse output lacks %s", want)
		}
	}
	if issuer := pkitest.MustRun(t, "x509", "-in", p(dev.Files.Cert), "-noout", "-issuer"); !strings.Contains(issuer, "DC = net + DC = windows + CN = MS-Organization-Access + OU = 82dbaca4-3e81-46ca-9c73-0950c1eaca97") {
		t.Errorf("issuer = %s", issuer)
	}
	// The issuing CA chains to the root and may sign (CA purpose).
	if out := pkitest.MustRun(t, "verify", "-x509_strict", "-CAfile", root, "-attime", pkitest.AtUnix(), issuing); !strings.Contains(out, "OK") {
		t.Errorf("issuing CA: %s", out)
	}
}
