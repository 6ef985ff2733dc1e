package crl

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/derutil"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

func TestGenerateCRL(t *testing.T) {
	fx := newFixture(t, "", NewMemStore(), nil)
	ctx := context.Background()
	iss := fx.issuer("issuing-ca")
	var serials []*big.Int
	for _, n := range []string{"mp-https", "client01", "cmg-server"} {
		serials = append(serials, fx.cert(t, n).SerialNumber)
	}
	fx.store.Revoke(ctx, "", serials[0], pkitest.At, ocsp.Superseded)
	fx.store.Revoke(ctx, "", serials[1], pkitest.At, ocsp.KeyCompromise)
	fx.store.Revoke(ctx, "", serials[2], pkitest.At, ocsp.CertificateHold)

	c1, err := Generate(ctx, fx.store, iss, pkitest.At, 0)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(c1.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(iss.Cert); err != nil {
		t.Errorf("signature: %v", err)
	}
	if !rl.ThisUpdate.Equal(pkitest.At) || !rl.NextUpdate.Equal(pkitest.At.Add(7*24*time.Hour)) {
		t.Errorf("thisUpdate %s nextUpdate %s", rl.ThisUpdate, rl.NextUpdate)
	}
	if len(rl.RevokedCertificateEntries) != 3 {
		t.Fatalf("%d entries, want 3", len(rl.RevokedCertificateEntries))
	}
	reasons := map[string]int{}
	for i, e := range rl.RevokedCertificateEntries {
		if i > 0 && rl.RevokedCertificateEntries[i-1].SerialNumber.Cmp(e.SerialNumber) >= 0 {
			t.Error("entries are not sorted by serial")
		}
		reasons[SerialHex(e.SerialNumber)] = e.ReasonCode
	}
	if reasons[SerialHex(serials[1])] != ocsp.KeyCompromise || reasons[SerialHex(serials[2])] != ocsp.CertificateHold {
		t.Errorf("reason codes %v", reasons)
	}
	c2, err := Generate(ctx, fx.store, iss, pkitest.At.Add(time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Number.Cmp(c1.Number) <= 0 {
		t.Errorf("CRL numbers %v then %v", c1.Number, c2.Number)
	}
	// The root's CRL covers the issuing CA.
	fx.store.Revoke(ctx, "root-ca", fx.lab.Authorities["issuing-ca"].Cert.SerialNumber, pkitest.At, ocsp.CACompromise)
	rc, err := Generate(ctx, fx.store, fx.issuer("root-ca"), pkitest.At, 0)
	if err != nil || rc.Entries != 1 {
		t.Fatalf("root CRL: %v, %d entries", err, rc.Entries)
	}
}

func TestCheckRefusesBadCRLs(t *testing.T) {
	fx := newFixture(t, "", NewMemStore(), nil)
	ctx := context.Background()
	iss := fx.issuer("issuing-ca")
	c, err := Generate(ctx, fx.store, iss, pkitest.At, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(c.DER, iss, c.Number); err == nil || !strings.Contains(err.Error(), "not greater") {
		t.Errorf("same number: %v", err)
	}
	other := iss
	other.CRLURL = "http://elsewhere/crl/issuing-ca.crl"
	if err := Check(c.DER, other, nil); err == nil || !strings.Contains(err.Error(), "differs from the certificates' CDP") {
		t.Errorf("IDP mismatch: %v", err)
	}
	wrongCA := iss
	wrongCA.Cert = fx.lab.Authorities["root-ca"].Cert
	if err := Check(c.DER, wrongCA, nil); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("wrong issuer: %v", err)
	}
	if err := Check(c.DER[:len(c.DER)-3], iss, nil); err == nil {
		t.Error("truncated CRL accepted")
	}
	// Publish refuses to go backwards.
	dir := t.TempDir()
	c2, _ := Generate(ctx, fx.store, iss, pkitest.At, 0)
	if _, err := Publish(dir, c2, iss); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(dir, c, iss); err == nil {
		t.Error("Publish accepted an older CRL number")
	}
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "issuing-ca.pem"))
	if !strings.Contains(string(pemBytes), "BEGIN X509 CRL") {
		t.Error("PEM CRL not written")
	}
}

// TestCRLWithOpenSSL: openssl reads the CRL, sees the IDP and the critical
// flag, and verify -crl_check passes for a good leaf and fails for a revoked one.
func TestCRLWithOpenSSL(t *testing.T) {
	pkitest.OpenSSL(t)
	fx := newFixture(t, "", NewMemStore(), nil)
	ctx := context.Background()
	revoked := fx.cert(t, "client01")
	fx.store.Revoke(ctx, "", revoked.SerialNumber, pkitest.At, ocsp.KeyCompromise)
	dir := t.TempDir()
	for _, name := range []string{"root-ca", "issuing-ca"} {
		c, err := Generate(ctx, fx.store, fx.issuer(name), pkitest.At, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Publish(dir, c, fx.issuer(name)); err != nil {
			t.Fatal(err)
		}
	}
	text := pkitest.MustRun(t, "crl", "-in", filepath.Join(dir, "issuing-ca.pem"), "-noout", "-text")
	for _, want := range []string{"X509v3 Issuing Distribution Point: critical", "URI:http://127.0.0.1:8080/crl/issuing-ca.crl", "Key Compromise", strings.ToUpper(SerialHex(revoked.SerialNumber))} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl crl -text lacks %q", want)
		}
	}
	root, inter := fx.lab.AbsPath("ca/root-ca.crt"), fx.lab.AbsPath("ca/issuing-ca.crt")
	at := fmt.Sprint(pkitest.At.Add(time.Minute).Unix())
	verify := func(crlFile, leaf string, untrusted ...string) (string, error) {
		args := []string{"verify", "-crl_check", "-CRLfile", filepath.Join(dir, crlFile), "-CAfile", root, "-attime", at}
		for _, u := range untrusted {
			args = append(args, "-untrusted", u)
		}
		return pkitest.Run(t, append(args, leaf)...)
	}
	if out, err := verify("issuing-ca.pem", fx.lab.AbsPath("certs/mp-https.crt"), inter); err != nil {
		t.Errorf("good leaf: %v\n%s", err, out)
	}
	if out, err := verify("issuing-ca.pem", fx.lab.AbsPath("certs/client01.crt"), inter); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("revoked leaf: %v\n%s", err, out)
	}
	// The root's CRL covers the issuing CA (its IDP equals the issuing CA's CDP).
	if out, err := verify("root-ca.pem", inter); err != nil {
		t.Errorf("issuing CA against the root CRL: %v\n%s", err, out)
	}
}

func BenchmarkCRL100kEntries(b *testing.B) {
	fx := newFixture(b, "", NewMemStore(), &labSpecNoLeaves)
	ctx := context.Background()
	iss := fx.issuer("issuing-ca")
	var recs []Record
	for i := 0; i < 100000; i++ {
		s, _ := ParseSerial(SerialHex(new(big.Int).Add(new(big.Int).Lsh(big.NewInt(int64(i)+1), 64), big.NewInt(int64(i)*7919))))
		recs = append(recs, Record{Issuer: "issuing-ca", Serial: s, NotAfter: pkitest.At.Add(time.Hour), Status: Revoked, RevokedAt: pkitest.At, Reason: ocsp.Superseded})
	}
	// Shuffle-insensitive: build sorts.
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c, err := build(iss, append([]Record(nil), recs...), big.NewInt(int64(i+1)), pkitest.At, time.Hour)
		if err != nil || c.Entries != 100000 {
			b.Fatal(err)
		}
	}
	_ = ctx
}

// BenchmarkCRL100kFromSQLite is the whole Generate path: 100,000 revoked
// entries read from the SQLite store, sorted, signed and checked.
func BenchmarkCRL100kFromSQLite(b *testing.B) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), StoreFile))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fx := newFixture(b, "", st, &labSpecNoLeaves)
	var recs []Record
	for i := 0; i < 100000; i++ {
		recs = append(recs, Record{Issuer: "issuing-ca", Serial: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(int64(i)+1), 64), big.NewInt(int64(i)*7919)), Subject: "CN=x", Role: "pki-client", NotAfter: pkitest.At.Add(time.Hour)})
	}
	if err := st.RecordBatch(ctx, recs); err != nil {
		b.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, `UPDATE certificates SET status = 1, revoked_at = ?, reason = 4 WHERE role = 'pki-client' AND subject = 'CN=x'`, pkitest.At.Unix()); err != nil {
		b.Fatal(err)
	}
	iss := fx.issuer("issuing-ca")
	b.ResetTimer()
	for b.Loop() {
		c, err := Generate(ctx, st, iss, pkitest.At, time.Hour)
		if err != nil || c.Entries != 100000 {
			b.Fatalf("%v, %d entries", err, c.Entries)
		}
	}
}

func TestCRLNumberPartialParse(t *testing.T) {
	fx := newFixture(t, "", NewMemStore(), nil)
	ctx := context.Background()
	fx.store.Revoke(ctx, "", fx.cert(t, "client01").SerialNumber, pkitest.At, ocsp.Superseded)
	for i := 0; i < 3; i++ {
		c, err := Generate(ctx, fx.store, fx.issuer("issuing-ca"), pkitest.At, 0)
		if err != nil {
			t.Fatal(err)
		}
		n, err := derutil.CRLNumber(c.DER)
		if err != nil || n.Cmp(c.Number) != 0 {
			t.Errorf("crlNumber = %v, %v; want %v", n, err, c.Number)
		}
	}
	if _, err := derutil.CRLNumber([]byte("junk")); err == nil {
		t.Error("crlNumber accepted junk")
	}
}
