package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
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

// TestOCSPProducedAtFollowsClock: producedAt comes from the responder's
// clock (truncated to the minute, like thisUpdate), not from the wall clock,
// and moves with it: 8 hours later a re-signed response carries the new time.
func TestOCSPProducedAtFollowsClock(t *testing.T) {
	fx := newFixture(t, "", NewMemStore(), &labSpecNoLeaves)
	start := pkitest.At.Add(12*time.Minute + 34*time.Second + 500*time.Millisecond)
	fx.clk.Set(start)
	srv, _, u, _ := fx.server(t)
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	leaf := fx.cert(t, "cmg-server")
	ask := func() *ocsp.Response {
		t.Helper()
		_, body := post(t, srv.URL, ocspReq(t, leaf, issuer, crypto.SHA1))
		or, err := ocsp.ParseResponseForCert(body, leaf, issuer)
		if err != nil {
			t.Fatal(err)
		}
		return or
	}
	want := start.Truncate(time.Minute)
	or := ask()
	if !or.ProducedAt.Equal(want) || !or.ThisUpdate.Equal(want) || !or.NextUpdate.Equal(want.Add(DefaultOCSPValidity)) {
		t.Fatalf("producedAt %s thisUpdate %s nextUpdate %s, want %s, %s, +24h", or.ProducedAt, or.ThisUpdate, or.NextUpdate, want, want)
	}

	// 8 hours on, the cached response is still current and consistent.
	fx.clk.Add(8 * time.Hour)
	if or := ask(); !or.ProducedAt.Equal(want) {
		t.Errorf("cached response producedAt %s, want %s", or.ProducedAt, want)
	}
	// A change re-signs it at the clock's new time.
	if _, _, err := fx.store.Revoke(context.Background(), "", leaf.SerialNumber, fx.clk.Now(), ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if _, err := u.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want8 := start.Add(8 * time.Hour).Truncate(time.Minute)
	or = ask()
	if or.Status != ocsp.Revoked || !or.ProducedAt.Equal(want8) || !or.ThisUpdate.Equal(want8) {
		t.Errorf("after 8 h and a revocation: status %d producedAt %s thisUpdate %s, want revoked at %s", or.Status, or.ProducedAt, or.ThisUpdate, want8)
	}

	// With a 12 h validity, Refresh 8 h later re-signs unchanged responses
	// (past half their validity), again at the clock's time.
	clk := clock.NewFake(start)
	r, err := NewResponder(ResponderConfig{Store: fx.store, Clock: clk, Issuers: fx.issuers, Validity: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	good := fx.cert(t, "mp-https")
	req := ocspReq(t, good, issuer, crypto.SHA256)
	check := func(want time.Time) {
		t.Helper()
		resp, err := r.Respond(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		or, err := ocsp.ParseResponseForCert(resp.DER, good, issuer)
		if err != nil || or.Status != ocsp.Good || !or.ProducedAt.Equal(want) || !or.ThisUpdate.Equal(want) {
			t.Fatalf("%v: status %d producedAt %s thisUpdate %s, want good at %s", err, or.Status, or.ProducedAt, or.ThisUpdate, want)
		}
	}
	check(want)
	clk.Add(8 * time.Hour)
	if n, err := r.Refresh(context.Background()); err != nil || n == 0 {
		t.Fatalf("refresh: %d signed, %v", n, err)
	}
	before := r.Signed()
	check(want8)
	if r.Signed() != before {
		t.Error("the request after Refresh was signed on the hot path")
	}
}

// TestOCSPResponsesOpenSSL: good, revoked with a reason, unknown, and a
// delegated responder's response parse and verify in Go and in openssl, and
// carry the clock's producedAt.
func TestOCSPResponsesOpenSSL(t *testing.T) {
	pkitest.OpenSSL(t)
	fx := newFixture(t, "", NewMemStore(), &labSpecNoLeaves)
	ctx := context.Background()
	e, err := fx.lab.Issue(ctx, ca.CertSpec{Name: "ocsp-issuing", Profile: "ocsp-signer", CN: "Lab OCSP Responder"},
		ca.IssueOptions{Clock: clock.Fixed(pkitest.At)})
	if err != nil {
		t.Fatal(err)
	}
	signerCert, err := certio.ReadCertificate(fx.lab.AbsPath(e.Files.Cert))
	if err != nil {
		t.Fatal(err)
	}
	signerKey, err := certio.ReadKey(fx.lab.AbsPath(e.Files.Key), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(pkitest.At.Add(3 * time.Hour))
	direct, err := NewResponder(ResponderConfig{Store: fx.store, Clock: clk, Issuers: fx.issuers})
	if err != nil {
		t.Fatal(err)
	}
	deleg := fx.issuer("issuing-ca")
	deleg.OCSPCert, deleg.OCSPSigner = signerCert, signerKey
	delegated, err := NewResponder(ResponderConfig{Store: fx.store, Clock: clk, Issuers: []Issuer{deleg}})
	if err != nil {
		t.Fatal(err)
	}
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	revoked := fx.cert(t, "mp-https")
	if _, _, err := fx.store.Revoke(ctx, "", revoked.SerialNumber, pkitest.At, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	produced := clk.Now().Truncate(time.Minute)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		r      *Responder
		serial *big.Int
		hash   crypto.Hash
		status int
		want   string // in openssl's output
	}{
		{"good", direct, fx.cert(t, "cmg-server").SerialNumber, crypto.SHA1, ocsp.Good, ": good"},
		{"good-sha256", direct, fx.cert(t, "cmg-server").SerialNumber, crypto.SHA256, ocsp.Good, ": good"},
		{"revoked", direct, revoked.SerialNumber, crypto.SHA1, ocsp.Revoked, "Reason: keyCompromise"},
		{"unknown", direct, big.NewInt(424242), crypto.SHA1, ocsp.Unknown, ": unknown"},
		{"delegated", delegated, revoked.SerialNumber, crypto.SHA1, ocsp.Revoked, "Reason: keyCompromise"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := &x509.Certificate{SerialNumber: tc.serial}
			resp, err := tc.r.Respond(ctx, ocspReq(t, leaf, issuer, tc.hash))
			if err != nil {
				t.Fatal(err)
			}
			or, err := ocsp.ParseResponseForCert(resp.DER, leaf, issuer)
			if err != nil {
				t.Fatalf("x/crypto/ocsp: %v", err)
			}
			if or.Status != tc.status || or.SerialNumber.Cmp(tc.serial) != 0 || or.IssuerHash != tc.hash || !or.ProducedAt.Equal(produced) {
				t.Errorf("status %d serial %x hash %v producedAt %s, want %d %x %v %s", or.Status, or.SerialNumber, or.IssuerHash, or.ProducedAt, tc.status, tc.serial, tc.hash, produced)
			}
			if tc.status == ocsp.Revoked && (!or.RevokedAt.Equal(pkitest.At) || or.RevocationReason != ocsp.KeyCompromise) {
				t.Errorf("revoked at %s reason %d", or.RevokedAt, or.RevocationReason)
			}
			if (tc.r == delegated) != (or.Certificate != nil && or.Certificate.Equal(signerCert)) {
				t.Errorf("delegated %v, response carries certificate %v", tc.r == delegated, or.Certificate != nil)
			}
			f := filepath.Join(dir, tc.name+".der")
			if err := os.WriteFile(f, resp.DER, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"ocsp", "-respin", f, "-resp_text", "-issuer", fx.lab.AbsPath("ca/issuing-ca.crt"),
				"-CAfile", fx.lab.AbsPath("ca/root-ca.crt"), "-verify_other", fx.lab.AbsPath("ca/issuing-ca.crt"),
				"-no_nonce", "-attime", pkitest.AtUnix(), "-validity_period", pkitest.OCSPValidityPeriod()}
			if tc.hash == crypto.SHA256 {
				args = append(args, "-sha256") // before -serial, which it applies to
			}
			args = append(args, "-serial", fmt.Sprintf("0x%x", tc.serial))
			out := pkitest.MustRun(t, args...)
			for _, s := range []string{"Response verify OK", tc.want, "Produced At: " + produced.Format("Jan _2 15:04:05 2006 GMT")} {
				if !strings.Contains(out, s) {
					t.Errorf("openssl output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestOCSPEncodingMatchesXCrypto: apart from producedAt, the signed
// responses are those ocsp.CreateResponse makes, byte for byte (whole
// responses for RSA, whose signatures are deterministic; the signed data,
// algorithm and certificates for ECDSA).
func TestOCSPEncodingMatchesXCrypto(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaCA := selfCA(t, "RSA CA", rsaKey, nil, nil, false)
	ecCA := selfCA(t, "P-384 CA", p384, nil, nil, false)
	responder := selfCA(t, "Delegated Responder", p256, rsaCA, rsaKey, true)
	for _, tc := range []struct {
		name string
		iss  Issuer
	}{
		{"rsa", Issuer{Name: "rsa", Cert: rsaCA, Signer: rsaKey}},
		{"p384", Issuer{Name: "p384", Cert: ecCA, Signer: p384}},
		{"delegated-p256", Issuer{Name: "rsa", Cert: rsaCA, Signer: rsaKey, OCSPCert: responder, OCSPSigner: p256}},
	} {
		r, err := NewResponder(ResponderConfig{Store: NewMemStore(), Issuers: []Issuer{tc.iss}})
		if err != nil {
			t.Fatal(err)
		}
		ri := r.issuers[0]
		respCert, respKey := tc.iss.Cert, tc.iss.Signer
		if tc.iss.OCSPCert != nil {
			respCert, respKey = tc.iss.OCSPCert, tc.iss.OCSPSigner
		}
		this := pkitest.At.Truncate(time.Minute)
		for _, h := range hashes {
			for _, st := range []struct {
				status, reason int
				revokedAt      time.Time
			}{{ocsp.Good, 0, time.Time{}}, {ocsp.Unknown, 0, time.Time{}}, {ocsp.Revoked, ocsp.KeyCompromise, pkitest.At.Add(-time.Hour)}, {ocsp.Revoked, ocsp.Unspecified, pkitest.At.Add(-time.Hour)}} {
				name := fmt.Sprintf("%s/%v/status%d/reason%d", tc.name, h, st.status, st.reason)
				serial := big.NewInt(0x1234567890)
				tpl := ocsp.Response{SerialNumber: serial, IssuerHash: h, ThisUpdate: this, NextUpdate: this.Add(DefaultOCSPValidity),
					Status: st.status, RevokedAt: st.revokedAt, RevocationReason: st.reason}
				if tc.iss.OCSPCert != nil {
					tpl.Certificate = tc.iss.OCSPCert
				}
				theirs, err := ocsp.CreateResponse(tc.iss.Cert, respCert, tpl, respKey)
				if err != nil {
					t.Fatal(err)
				}
				x, err := ocsp.ParseResponse(theirs, tc.iss.Cert)
				if err != nil {
					t.Fatal(err)
				}
				// Our encoder at x/crypto's producedAt (its wall clock, used
				// here only as a value to compare bytes).
				ours, err := ri.signer.sign(ocspEntry{Hash: h, Names: ri.hashes[h], Serial: serial, Status: st.status, RevokedAt: st.revokedAt, Reason: st.reason,
					ThisUpdate: this, NextUpdate: this.Add(DefaultOCSPValidity)}, x.ProducedAt)
				if err != nil {
					t.Fatal(err)
				}
				o, err := ocsp.ParseResponse(ours, tc.iss.Cert)
				if err != nil {
					t.Fatalf("%s: ours does not parse and verify: %v", name, err)
				}
				if !bytes.Equal(o.TBSResponseData, x.TBSResponseData) || o.SignatureAlgorithm != x.SignatureAlgorithm ||
					!bytes.Equal(o.RawResponderName, x.RawResponderName) || (o.Certificate == nil) != (x.Certificate == nil) ||
					(o.Certificate != nil && !o.Certificate.Equal(x.Certificate)) {
					t.Errorf("%s: response differs from x/crypto/ocsp's:\nours   %x\ntheirs %x", name, ours, theirs)
				}
				if _, isRSA := respKey.(*rsa.PrivateKey); isRSA && !bytes.Equal(ours, theirs) {
					t.Errorf("%s: RSA response bytes differ:\nours   %x\ntheirs %x", name, ours, theirs)
				}
			}
		}
	}
	if _, err := NewResponder(ResponderConfig{Store: NewMemStore(), Issuers: []Issuer{{Name: "nokey", Cert: rsaCA}}}); err == nil || !strings.Contains(err.Error(), "nokey") {
		t.Errorf("an issuer without a key: %v", err)
	}
}

// selfCA makes a CA certificate for key at the pinned time, self-signed or
// signed by parent; responder makes it a delegated OCSP responder instead.
func selfCA(t testing.TB, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, responder bool) *x509.Certificate {
	t.Helper()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(cn))), Subject: pkix.Name{CommonName: cn},
		NotBefore: pkitest.At.Add(-time.Hour), NotAfter: pkitest.At.Add(24 * time.Hour), BasicConstraintsValid: true,
		IsCA: !responder, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	if responder {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
		tpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}, Value: []byte{5, 0}}}
	}
	if parent == nil {
		parent, parentKey = tpl, key
	}
	c := pkitest.Certificate(t, tpl, parent, key.Public(), parentKey)
	return c
}
