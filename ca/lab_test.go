package ca

import (
	"bytes"
	"context"
	gocrypto "crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// makeLab creates the default lab once per test with a pinned clock.
func makeLab(t *testing.T, spec *LabSpec, opts LabOptions) (string, *lab.Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	opts.Out = dir
	if opts.Clock == nil {
		opts.Clock = clock.Fixed(pkitest.At)
	}
	if spec == nil {
		spec = &LabSpec{}
	}
	m, err := CreateLab(context.Background(), spec, opts)
	if err != nil {
		t.Fatalf("CreateLab: %v", err)
	}
	return dir, m
}

func readCert(t *testing.T, dir, rel string) *x509.Certificate {
	t.Helper()
	c, err := certio.ReadCertificate(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDefaultLab(t *testing.T) {
	dir, m := makeLab(t, nil, LabOptions{})
	if m.Schema != "cmgpki/lab/v1" || m.BaseURL != "http://127.0.0.1:8080" || m.PFXPasswordFile != "pfx-password.txt" {
		t.Errorf("manifest header = %q %q %q", m.Schema, m.BaseURL, m.PFXPasswordFile)
	}
	var roles []string
	for _, e := range append(slices.Clone(m.CAs), m.Certificates...) {
		roles = append(roles, e.Role)
	}
	want := []string{"root-ca", "issuing-ca", "wpj-ca", "cmg-server", "mp-https", "cmg-connection-point", "pki-client", "wpj-device"}
	if !slices.Equal(roles, want) {
		t.Fatalf("roles = %v, want %v", roles, want)
	}
	pw, err := certio.ReadSecretFile(filepath.Join(dir, m.PFXPasswordFile))
	if err != nil || len(pw) < 20 {
		t.Fatalf("pfx password file: %q %v", pw, err)
	}
	roots := x509.NewCertPool()
	inter := x509.NewCertPool()
	for _, e := range m.CAs {
		c := readCert(t, dir, e.Files.Cert)
		if e.IssuerName == e.Name {
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	for _, e := range append(slices.Clone(m.CAs), m.Certificates...) {
		t.Run(e.Name, func(t *testing.T) {
			c := readCert(t, dir, e.Files.Cert)
			der, err := os.ReadFile(filepath.Join(dir, e.Files.DER))
			if err != nil || !bytes.Equal(der, c.Raw) {
				t.Errorf("DER file differs from the PEM certificate (%v)", err)
			}
			if e.SHA1Thumbprint != certio.SHA1Thumbprint(c) || len(e.SHA1Thumbprint) != 40 || strings.ToUpper(e.SHA1Thumbprint) != e.SHA1Thumbprint {
				t.Errorf("thumbprint %q is not the upper-case SHA-1 of the DER", e.SHA1Thumbprint)
			}
			if e.Serial != strings.ToLower(c.SerialNumber.Text(16)) || len(e.Serial) != 32 {
				t.Errorf("serial %q, certificate %x: want 128-bit lower-case hex", e.Serial, c.SerialNumber)
			}
			if e.NotBefore != pkitest.At.Add(-10*time.Minute).Format(time.RFC3339) {
				t.Errorf("not_before = %s", e.NotBefore)
			}
			if c.SignatureAlgorithm != x509.SHA256WithRSA {
				t.Errorf("signature algorithm %s, want SHA256-RSA (no PSS)", c.SignatureAlgorithm)
			}
			rep := profiles.Lint(c, profiles.MustGet(profiles.Role(e.Role)), lint.Env{At: pkitest.At})
			for _, r := range rep.AtLeast(lint.Warn) {
				t.Errorf("lint %s: %s", r.Rule, r.Details)
			}
			for _, k := range []string{e.Files.Key, e.Files.PFX} {
				if k == "" {
					continue
				}
				fi, err := os.Stat(filepath.Join(dir, k))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v (%v), want 0600", k, fi.Mode().Perm(), err)
				}
			}
			key, err := certio.ReadKey(filepath.Join(dir, e.Files.Key), nil)
			if err != nil || !bytes.Contains(mustRead(t, dir, e.Files.Key), []byte("BEGIN PRIVATE KEY")) {
				t.Fatalf("key is not PKCS#8 PEM: %v", err)
			}
			if !key.Public().(interface{ Equal(gocrypto.PublicKey) bool }).Equal(c.PublicKey) {
				t.Error("key does not match the certificate")
			}
			if e.Files.PFX != "" {
				k, leaf, cas, err := certio.DecodePFX(mustRead(t, dir, e.Files.PFX), string(pw))
				if err != nil {
					t.Fatalf("PFX: %v", err)
				}
				if !leaf.Equal(c) || k == nil || len(cas) != chainLen(e) {
					t.Errorf("PFX holds leaf=%t key=%t %d CA certs, want full chain of %d", leaf.Equal(c), k != nil, len(cas), chainLen(e))
				}
			}
			if e.Role == "root-ca" || e.Role == "issuing-ca" || e.Role == "wpj-ca" {
				return
			}
			usage := x509.ExtKeyUsageClientAuth
			if e.Role == "cmg-server" || e.Role == "mp-https" {
				usage = x509.ExtKeyUsageServerAuth
			}
			chains, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: pkitest.At, KeyUsages: []x509.ExtKeyUsage{usage}})
			if err != nil {
				t.Fatalf("chain: %v", err)
			}
			if e.Role != "wpj-device" && len(chains[0]) != 3 {
				t.Errorf("chain length %d, want leaf, issuing, root", len(chains[0]))
			}
		})
	}
}

func chainLen(e lab.Entry) int {
	if e.Role == "wpj-device" {
		return 1
	}
	return 2
}

func mustRead(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLabURLsAndWPJLayout(t *testing.T) {
	dir, m := makeLab(t, &LabSpec{BaseURL: "http://pki.contoso.com:8080/"}, LabOptions{})
	cmg, _ := m.Find("cmg-server")
	c := readCert(t, dir, cmg.Files.Cert)
	if !slices.Equal(c.CRLDistributionPoints, []string{"http://pki.contoso.com:8080/crl/issuing-ca.crl"}) ||
		!slices.Equal(c.IssuingCertificateURL, []string{"http://pki.contoso.com:8080/ca/issuing-ca.cer"}) ||
		!slices.Equal(c.OCSPServer, []string{"http://pki.contoso.com:8080/ocsp"}) {
		t.Errorf("cmg-server URLs: CDP %v AIA %v OCSP %v", c.CRLDistributionPoints, c.IssuingCertificateURL, c.OCSPServer)
	}
	iss, _ := m.Find("issuing-ca")
	ic := readCert(t, dir, iss.Files.Cert)
	if !slices.Equal(ic.CRLDistributionPoints, []string{"http://pki.contoso.com:8080/crl/root-ca.crl"}) || !slices.Equal(ic.OCSPServer, []string{"http://pki.contoso.com:8080/ocsp"}) {
		t.Errorf("issuing CA: CDP %v OCSP %v", ic.CRLDistributionPoints, ic.OCSPServer)
	}

	dev, _ := m.Find("device01")
	d := readCert(t, dir, dev.Files.Cert)
	wpj, _ := m.Find("wpj-ca")
	wc := readCert(t, dir, wpj.Files.Cert)
	if !bytes.Equal(d.RawIssuer, wc.RawSubject) || wpj.Subject != "DC=net+DC=windows+CN=MS-Organization-Access+OU=82dbaca4-3e81-46ca-9c73-0950c1eaca97" {
		t.Errorf("device issuer %q is not the WPJ CA subject", wpj.Subject)
	}
	if len(d.SubjectKeyId) != 0 || len(d.AuthorityKeyId) != 0 || d.KeyUsage != 0 || len(d.CRLDistributionPoints)+len(d.OCSPServer)+len(d.IssuingCertificateURL) != 0 || len(d.DNSNames) != 0 {
		t.Errorf("device certificate carries SKID/AKI/KU/CDP/AIA/SAN: %x %x %v %v", d.SubjectKeyId, d.AuthorityKeyId, d.KeyUsage, d.CRLDistributionPoints)
	}
	var oids []string
	for _, e := range d.Extensions {
		oids = append(oids, e.Id.String())
		if e.Id.String() == "2.5.29.37" && !e.Critical {
			t.Error("device EKU is not critical")
		}
	}
	want := []string{"2.5.29.19", "2.5.29.37", "1.2.840.113556.1.5.284.1", "1.2.840.113556.1.5.284.2", "1.2.840.113556.1.5.284.3", "1.2.840.113556.1.5.284.4", "1.2.840.113556.1.5.284.7"}
	if !slices.Equal(oids, want) {
		t.Errorf("device extensions %v, want exactly %v (the [DVRJ] 4.1 layout)", oids, want)
	}
	g, _ := profiles.ParseGUID(d.Subject.CommonName)
	ext, _ := profiles.FindExtension(d, profiles.OIDWPJDeviceID)
	if !bytes.Equal(ext.Value, append([]byte{0x04, 0x81, 0x10}, g[:]...)) {
		t.Errorf("device ID extension % X does not encode CN %s", ext.Value, d.Subject.CommonName)
	}
	if time.Duration(d.NotAfter.Sub(d.NotBefore)) < 9*365*24*time.Hour {
		t.Errorf("device validity %v, want about 10 years", d.NotAfter.Sub(d.NotBefore))
	}
	// import-windows.ps1 lists the roots for LocalMachine\Root, the issuing
	// CA for LocalMachine\CA and every PFX (winimport_test.go checks more).
	checkTablesMatch(t, readImportScript(t, dir), m)
}

func TestReproducible(t *testing.T) {
	keys := t.TempDir()
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := LabOptions{Reproducible: true, Keys: KeyStore{Dir: keys}, NotBefore: nb, PFXPassword: "fixture-password"}
	n := 3
	a, ma := makeLab(t, &LabSpec{Clients: &n}, opts)
	b, mb := makeLab(t, &LabSpec{Clients: &n}, opts)
	ja, _ := ma.Marshal()
	jb, _ := mb.Marshal()
	if !bytes.Equal(ja, jb) {
		t.Fatalf("manifests differ:\n%s\n%s", ja, jb)
	}
	files := 0
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		other, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Errorf("%s missing from the second run", rel)
			return nil
		}
		mine, _ := os.ReadFile(p)
		if filepath.Ext(rel) != ".key" && !bytes.Equal(mine, other) { // keys come from the key store, identical too
			t.Errorf("%s differs between runs", rel)
		}
		files++
		return nil
	})
	if files < 30 {
		t.Errorf("compared only %d files", files)
	}
	// A different spec gives different serials and device GUIDs.
	c, mc := makeLab(t, &LabSpec{Clients: &n, Domain: "fabrikam.com"}, opts)
	_ = c
	if mc.Certificates[0].Serial == ma.Certificates[0].Serial {
		t.Error("serials do not depend on the spec")
	}
	if _, err := CreateLab(context.Background(), &LabSpec{}, LabOptions{Out: filepath.Join(t.TempDir(), "x"), Reproducible: true, Keys: KeyStore{Dir: keys}}); err == nil || !strings.Contains(err.Error(), "--not-before") {
		t.Errorf("reproducible without --not-before: %v", err)
	}
}

func TestKeyStore(t *testing.T) {
	s := KeyStore{Dir: t.TempDir()}
	k1, reused, err := s.Get("a", profiles.P256)
	if err != nil || reused {
		t.Fatalf("first Get: reused=%t err=%v", reused, err)
	}
	k2, reused, err := s.Get("a", profiles.P256)
	if err != nil || !reused || !k1.Public().(interface{ Equal(gocrypto.PublicKey) bool }).Equal(k2.Public()) {
		t.Fatalf("second Get did not reuse the key: reused=%t err=%v", reused, err)
	}
	if fi, _ := os.Stat(filepath.Join(s.Dir, "a.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key store file mode %v", fi.Mode().Perm())
	}
	if _, _, err := s.Get("a", profiles.P384); err == nil || !strings.Contains(err.Error(), "holds a p256 key") {
		t.Errorf("type mismatch: %v", err)
	}
}

func TestIssueIntoLab(t *testing.T) {
	dir, _ := makeLab(t, nil, LabOptions{})
	l, err := OpenLab(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := IssueOptions{Clock: clock.Fixed(pkitest.At)}
	e, err := l.Issue(ctx, CertSpec{Name: "dp01", Profile: "mp-https", CN: "dp01.contoso.com", SANs: []string{"dp01.contoso.com", "dp01.corp.contoso.com"}, KeyType: "rsa3072"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lab.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := m.Find("dp01")
	if !ok || got.SHA1Thumbprint != e.SHA1Thumbprint || got.KeyType != "rsa3072" || got.IssuerName != "issuing-ca" {
		t.Fatalf("manifest entry %+v", got)
	}
	if _, err := l.Issue(ctx, CertSpec{Name: "dp01", Profile: "mp-https", CN: "dp01.contoso.com"}, opts); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("duplicate name: %v", err)
	}
	opts.Force = true
	if _, err := l.Issue(ctx, CertSpec{Name: "dp01", Profile: "mp-https", CN: "dp02.contoso.com"}, opts); err != nil {
		t.Errorf("--force replace: %v", err)
	}
	if _, err := l.Issue(ctx, CertSpec{Name: "root-ca", Profile: "pki-client", CN: "x.contoso.com"}, opts); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Errorf("overwriting a CA name: %v", err)
	}
	var se *SpecError
	if _, err := l.Issue(ctx, CertSpec{Name: "cmg2", Profile: "cmg-server", CN: "cmg2.contoso.com", KeyType: "p256"}, opts); !errors.As(err, &se) {
		t.Errorf("forbidden key type: %v, want a *SpecError", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".issue-*")); len(entries) > 0 {
		t.Errorf("temporary directories left behind: %v", entries)
	}
	ocsp, err := l.Issue(ctx, CertSpec{Name: "ocsp-issuing", Profile: "ocsp-signer", CN: "Lab OCSP Responder"}, opts)
	if err != nil || ocsp.Files.PFX != "" {
		t.Fatalf("ocsp-signer: %v %+v", err, ocsp)
	}
}

// A user template may add to a profile, but what the profile forbids is never
// signed.
func TestUserTemplate(t *testing.T) {
	dir, _ := makeLab(t, nil, LabOptions{})
	l, err := OpenLab(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := IssueOptions{Clock: clock.Fixed(pkitest.At),
		Template: `{"subject": {"commonName": {{ toJson .Subject.CommonName }}, "organization": ["Contoso"]}, "policyIdentifiers": ["1.3.6.1.4.1.311.21.8.1"]}`}
	e, err := l.Issue(context.Background(), CertSpec{Name: "c2", Profile: "pki-client", CN: "c2.contoso.com"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := readCert(t, dir, e.Files.Cert)
	if len(c.PolicyIdentifiers) != 1 || c.Subject.Organization[0] != "Contoso" || !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Errorf("template not applied on top of the profile: policies %v subject %v EKU %v", c.PolicyIdentifiers, c.Subject, c.ExtKeyUsage)
	}
	opts.Template = `{"extKeyUsage": ["clientAuth"]}`
	_, err = l.Issue(context.Background(), CertSpec{Name: "cmg3", Profile: "cmg-server", CN: "cmg3.contoso.com"}, opts)
	var le *LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "e_eku_missing") {
		t.Fatalf("template dropping serverAuth: err = %v, want a *LintError naming e_eku_missing", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs", "cmg3.crt")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a refused certificate left files behind")
	}
}

func TestEncryptedKeys(t *testing.T) {
	dir, m := makeLab(t, nil, LabOptions{KeyPassword: []byte("key-secret")})
	if !m.KeysEncrypted {
		t.Error("manifest does not say keys are encrypted")
	}
	if !bytes.Contains(mustRead(t, dir, "ca/root-ca.key"), []byte("ENCRYPTED PRIVATE KEY")) {
		t.Fatal("CA key is not encrypted PKCS#8")
	}
	if _, err := OpenLab(dir, nil); err == nil || !strings.Contains(err.Error(), "--key-password-file") {
		t.Errorf("opening without the password: %v", err)
	}
	if _, err := OpenLab(dir, []byte("key-secret")); err != nil {
		t.Errorf("opening with the password: %v", err)
	}
}

func TestReadManifestSchema(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"schema":"cmgpki/lab/v2"}`), 0o644)
	if _, err := lab.ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("v2 manifest: %v", err)
	}
	if _, err := lab.ReadManifest(t.TempDir()); !errors.Is(err, lab.ErrNotLab) {
		t.Errorf("empty dir: %v", err)
	}
	var m lab.Manifest
	if err := json.Unmarshal([]byte(`{"schema":"cmgpki/lab/v1","cas":[],"certificates":[]}`), &m); err != nil {
		t.Fatal(err)
	}
}

func TestProgressAndPassword(t *testing.T) {
	var progress bytes.Buffer
	n := 25
	dir, m := makeLab(t, &LabSpec{Clients: &n}, LabOptions{Progress: &progress})
	out := progress.String()
	if !strings.Contains(out, "Progress: keys 32/32") || !strings.Contains(out, "Progress: certificates 29/29") {
		t.Errorf("progress:\n%s", out)
	}
	pw, _ := certio.ReadSecretFile(filepath.Join(dir, m.PFXPasswordFile))
	if len(pw) != 24 || strings.ContainsAny(string(pw), "0O1lI") {
		t.Errorf("generated password %d characters, or with ambiguous ones", len(pw))
	}
	iss, _ := m.Find("issuing-ca")
	if c := readCert(t, dir, iss.Files.Cert); !slices.Equal(c.OCSPServer, []string{"http://127.0.0.1:8080/ocsp"}) {
		t.Errorf("issuing CA OCSP URL %v", c.OCSPServer)
	}
}
