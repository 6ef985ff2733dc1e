package cmd

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// TestVerifyWPJDeviceAndNoRevocationPointer: a lab's Entra (WPJ) device
// certificate has no AKI (as the real ones) and no revocation pointer, and
// its role is not revocation-checked: verify cert passes with revocation
// off and on (against serve). A PKI client certificate without CDP or AIA
// fails with CRYPT_E_NO_REVOCATION_CHECK 0x80092012, not 0x80092013.
func TestVerifyWPJDeviceAndNoRevocationPointer(t *testing.T) {
	l := newServedLab(t, "--devices", "1", "--clients", "0")
	roots := l.path("ca")
	device := l.path("certs", "device01.crt")

	for _, mode := range []string{"--no-crl-check", "--crl-check"} {
		r := runCmd(t, nil, "verify", "cert", device, "--roots", roots, mode, "--at", at, "-o", "json")
		d := decodeVerify(t, r)
		rep := d.Reports[0]
		if r.code != ExitOK || rep.Profile.Name != "wpj-device" || !rep.Chain.Trusted {
			t.Fatalf("%s: exit %d, profile %+v, findings %v\n%s", mode, r.code, rep.Profile, d.ids(0), r.errOut)
		}
		if d.has(0, "chain_malformed") || !d.has(0, "aki_missing") {
			t.Errorf("%s: findings %v, want the warning aki_missing and no chain_malformed", mode, d.ids(0))
		}
		for _, f := range rep.Findings {
			if f.Level == "error" {
				t.Errorf("%s: error finding %+v", mode, f)
			}
		}
		if mode == "--crl-check" {
			if !d.has(0, "revocation_not_checked_for_role") || d.has(0, "revocation_off") {
				t.Errorf("crl check on: findings %v, want the notice revocation_not_checked_for_role", d.ids(0))
			}
			if rv := rep.Chain.Elements[0].Revocation; rv != nil {
				t.Errorf("crl check on: the device certificate was checked: %+v", rv)
			}
		}
	}

	// A pki-client certificate without CDP or AIA, signed by the lab's
	// issuing CA.
	d, err := lab.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	ica, err := d.Certificate("issuing-ca")
	if err != nil {
		t.Fatal(err)
	}
	icaKey, err := d.Key("issuing-ca", nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x7e57), Subject: pkix.Name{CommonName: "client09.contoso.com"},
		DNSNames: []string{"client09.contoso.com"}, NotBefore: pkitest.At.Add(-time.Hour), NotAfter: pkitest.At.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ica, key.Public(), icaKey)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := x509.ParseCertificate(der); len(c.CRLDistributionPoints)+len(c.OCSPServer)+len(c.IssuingCertificateURL) != 0 {
		t.Fatal("the test certificate has revocation pointers")
	}
	file := filepath.Join(t.TempDir(), "client09.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, nil, "verify", "cert", file, "--roots", roots, "--profile", "pki-client", "--at", at, "-o", "json")
	doc := decodeVerify(t, r)
	if r.code != ExitFindings || !doc.has(0, "chain_no_revocation_check 0x80092012") || doc.has(0, "chain_revocation_offline") {
		t.Fatalf("no pointer: exit %d, findings %v\n%s", r.code, doc.ids(0), r.errOut)
	}
	for _, f := range doc.Reports[0].Findings {
		if f.ID == "chain_no_revocation_check" && (f.Windows.Name != "CRYPT_E_NO_REVOCATION_CHECK" || f.Windows.WinHTTP != 12057 || f.Level != "error") {
			t.Errorf("finding %+v", f)
		}
	}
	// The issuing CA above it is still checked, against serve.
	if rv := doc.Reports[0].Chain.Elements[1].Revocation; rv == nil || rv.Status != "good" {
		t.Errorf("issuing CA revocation %+v, want good", rv)
	}
	// Off: passes with the notice.
	r = runCmd(t, nil, "verify", "cert", file, "--roots", roots, "--profile", "pki-client", "--no-crl-check", "--at", at, "-o", "json")
	if doc := decodeVerify(t, r); r.code != ExitOK || !doc.has(0, "revocation_off") {
		t.Errorf("no pointer, check off: exit %d, findings %v", r.code, doc.ids(0))
	}
}
