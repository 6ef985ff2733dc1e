package lab_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/labtest"
	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

var zero = 0

func openLab(t *testing.T) (*ca.Lab, *lab.Dir) {
	t.Helper()
	l := labtest.Lab(t, "", &ca.LabSpec{Clients: &zero, Devices: &zero})
	d, err := lab.Open(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return l, d
}

func cns(cs []*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

func TestOpenAndLoaders(t *testing.T) {
	_, d := openLab(t)
	if _, err := lab.Open(t.TempDir()); !errors.Is(err, lab.ErrNotLab) {
		t.Errorf("Open of an empty directory: %v, want ErrNotLab", err)
	}
	all := d.Manifest.All()
	if len(all) != len(d.Manifest.CAs)+len(d.Manifest.Certificates) || all[0].Name != "root-ca" {
		t.Errorf("All() = %d entries starting %q", len(all), all[0].Name)
	}
	if _, err := d.Entry("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "mp-https") {
		t.Errorf("unknown entry: %v, want an error naming it and the lab's names", err)
	}

	for name, want := range map[string][]string{
		"mp-https":   {"mp.contoso.com", "contoso.com Lab Issuing CA"},
		"issuing-ca": {"contoso.com Lab Issuing CA"},
		"root-ca":    {"contoso.com Lab Root CA"},
	} {
		chain, err := d.Chain(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := cns(chain); !slices.Equal(got, want) {
			t.Errorf("Chain(%s) = %q, want %q", name, got, want)
		}
	}
	roots, err := d.Roots()
	if err != nil || !slices.Contains(cns(roots), "contoso.com Lab Root CA") {
		t.Errorf("Roots() = %q, %v", cns(roots), err)
	}
	for _, r := range roots {
		if err := r.CheckSignatureFrom(r); err != nil {
			t.Errorf("root %s is not self-signed: %v", r.Subject, err)
		}
	}

	cert, err := d.Certificate("cmg-server")
	if err != nil {
		t.Fatal(err)
	}
	key, err := d.Key("cmg-server", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		t.Error("Key(cmg-server) does not match its certificate")
	}
	if _, err := d.Key("nope", nil); err == nil {
		t.Error("Key of an unknown entry gave no error")
	}
}

// The tls.Certificate a lab entry makes serves a real handshake that a client
// trusting only the lab's roots accepts, at the pinned time.
func TestTLSCertificateHandshake(t *testing.T) {
	_, d := openLab(t)
	tc, err := d.TLSCertificate("mp-https", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificate) != 2 || tc.Leaf == nil || tc.Leaf.Subject.CommonName != "mp.contoso.com" {
		t.Fatalf("tls.Certificate: %d certificates, leaf %v", len(tc.Certificate), tc.Leaf)
	}
	roots, err := d.Roots()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{tc}, Time: func() time.Time { return pkitest.At }})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "ok")
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "mp.contoso.com", Time: func() time.Time { return pkitest.At }})
	if err != nil {
		t.Fatalf("handshake with the lab's mp-https: %v", err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates; len(got) != 2 {
		t.Errorf("server presented %d certificates, want leaf and intermediate", len(got))
	}
}

func TestIssuers(t *testing.T) {
	l, d := openLab(t)
	lis, err := d.Issuers(nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range lis {
		names = append(names, x.Name)
		if x.CRLURL != layout.For(d.Manifest.BaseURL, x.Name).CRL || x.Cert == nil || x.Signer == nil || x.OCSPCert != nil {
			t.Errorf("issuer %s: %+v", x.Name, x)
		}
		if pub, ok := x.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(x.Cert.PublicKey) {
			t.Errorf("issuer %s: key does not match its certificate", x.Name)
		}
		// The one-line conversion cmd relies on.
		if c := crl.Issuer(x); c.Name != x.Name || c.CRLURL != x.CRLURL {
			t.Errorf("crl.Issuer(%s) = %+v", x.Name, c)
		}
	}
	if !slices.Equal(names, []string{"root-ca", "issuing-ca"}) {
		t.Errorf("issuers %q", names)
	}
	// A delegated OCSP responder is attached to its CA.
	if _, err := l.Issue(context.Background(), ca.CertSpec{Name: "ocsp-issuing", Profile: "ocsp-signer", CN: "Lab OCSP Responder"}, ca.IssueOptions{Clock: clock.Fixed(pkitest.At)}); err != nil {
		t.Fatal(err)
	}
	d, err = lab.Open(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	lis, err = d.Issuers(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range lis {
		if (x.Name == "issuing-ca") != (x.OCSPCert != nil && x.OCSPSigner != nil) {
			t.Errorf("issuer %s: OCSP responder %v", x.Name, x.OCSPCert != nil)
		}
	}
	if reflect.TypeOf(lab.Issuer{}).NumField() != reflect.TypeOf(crl.Issuer{}).NumField() {
		t.Error("lab.Issuer and crl.Issuer have drifted apart")
	}
}

func TestEncryptedKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	pw := []byte("key-secret")
	if _, err := ca.CreateLab(context.Background(), &ca.LabSpec{Clients: &zero, Devices: &zero}, ca.LabOptions{Out: dir, Clock: clock.Fixed(pkitest.At), KeyPassword: pw}); err != nil {
		t.Fatal(err)
	}
	d, err := lab.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Manifest.KeysEncrypted {
		t.Error("manifest does not say keys_encrypted")
	}
	if _, err := d.Issuers(nil); err == nil {
		t.Error("encrypted CA keys loaded without a password")
	}
	if _, err := d.TLSCertificate("mp-https", pw); err != nil {
		t.Errorf("TLSCertificate with the key password: %v", err)
	}
}
