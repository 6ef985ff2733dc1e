package crl

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// TestDelegatedResponder: responses signed by an ocsp-signer issued by the
// CA verify for Go and for openssl, and carry the responder certificate.
func TestDelegatedResponder(t *testing.T) {
	pkitest.OpenSSL(t)
	fx := newFixture(t, "", NewMemStore(), nil)
	e, err := fx.lab.Issue(context.Background(), ca.CertSpec{Name: "ocsp-issuing", Profile: "ocsp-signer", CN: "Lab OCSP Responder"},
		ca.IssueOptions{Clock: clock.Fixed(pkitest.At)})
	if err != nil {
		t.Fatal(err)
	}
	signerCert, _ := certio.ReadCertificate(fx.lab.AbsPath(e.Files.Cert))
	signerKey, _ := certio.ReadKey(fx.lab.AbsPath(e.Files.Key), nil)
	for i := range fx.issuers {
		if fx.issuers[i].Name == "issuing-ca" {
			fx.issuers[i].OCSPCert, fx.issuers[i].OCSPSigner = signerCert, signerKey
		}
	}
	srv, _, _, _ := fx.server(t)
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	leaf := fx.cert(t, "cmg-server")
	_, body := post(t, srv.URL, ocspReq(t, leaf, issuer, crypto.SHA1))
	or, err := ocsp.ParseResponseForCert(body, leaf, issuer)
	if err != nil || or.Status != ocsp.Good {
		t.Fatalf("delegated response: %v", err)
	}
	if or.Certificate == nil || !or.Certificate.Equal(signerCert) {
		t.Error("response does not carry the delegated responder certificate")
	}
	// The response is current at the pinned time; openssl below cannot check
	// that (see pkitest.OCSPValidityPeriod), so Go does.
	if at := pkitest.At; !or.ThisUpdate.Equal(at.Truncate(time.Minute)) || !or.NextUpdate.After(at) {
		t.Errorf("response thisUpdate %s nextUpdate %s, want current at %s", or.ThisUpdate, or.NextUpdate, at)
	}
	dir := t.TempDir()
	respFile := filepath.Join(dir, "resp.der")
	os.WriteFile(respFile, body, 0o644)
	out := pkitest.MustRun(t, "ocsp", "-respin", respFile, "-issuer", fx.lab.AbsPath("ca/issuing-ca.crt"),
		"-CAfile", fx.lab.AbsPath("ca/root-ca.crt"), "-verify_other", fx.lab.AbsPath("ca/issuing-ca.crt"),
		"-cert", fx.lab.AbsPath("certs/cmg-server.crt"), "-no_nonce",
		"-attime", pkitest.AtUnix(), "-validity_period", pkitest.OCSPValidityPeriod())
	if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, ": good") {
		t.Errorf("openssl ocsp -respin:\n%s", out)
	}
	if _, err := NewResponder(ResponderConfig{Store: fx.store, Issuers: []Issuer{{Name: "x", Cert: issuer, OCSPCert: signerCert}}}); err == nil {
		t.Error("a delegated certificate without its key was accepted")
	}
}
