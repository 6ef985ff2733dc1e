package derutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

func TestIDPRoundTrip(t *testing.T) {
	const url = "http://127.0.0.1:8080/crl/issuing-ca.crl"
	ext, err := IDPExtension(url)
	if err != nil {
		t.Fatal(err)
	}
	if !ext.Critical || !ext.Id.Equal(OIDIssuingDistributionPoint) {
		t.Errorf("extension %v critical=%t, want critical 2.5.29.28", ext.Id, ext.Critical)
	}
	// SEQUENCE { [0] { [0] { [6] url } } }, RFC 5280 5.2.5.
	want, _ := hex.DecodeString("302ea02ca02a8628")
	if !bytes.HasPrefix(ext.Value, want) {
		t.Errorf("encoding %x does not start with %x", ext.Value, want)
	}
	got, err := IDPURL(ext.Value)
	if err != nil || got != url {
		t.Errorf("IDPURL = %q, %v; want %q", got, err, url)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, []byte("junk"), ext.Value[:10]} {
		if _, err := IDPURL(bad); err == nil {
			t.Errorf("IDPURL(%x) gave no error", bad)
		}
	}
}

func TestCRLNumberRoundTrip(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "derutil CA"},
		NotBefore: pkitest.At.Add(-time.Hour), NotAfter: pkitest.At.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, ca, ca, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(der)
	idp, _ := IDPExtension("http://x/crl")
	for _, n := range []*big.Int{big.NewInt(1), big.NewInt(1 << 40), new(big.Int).Lsh(big.NewInt(1), 150)} {
		for _, entries := range []int{0, 3} {
			tpl := &x509.RevocationList{Number: n, ThisUpdate: pkitest.At, NextUpdate: pkitest.At.Add(time.Hour), ExtraExtensions: []pkix.Extension{idp}}
			for i := range entries {
				tpl.RevokedCertificateEntries = append(tpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: big.NewInt(int64(i + 10)), RevocationTime: pkitest.At})
			}
			crl, err := x509.CreateRevocationList(rand.Reader, tpl, caCert, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CRLNumber(crl)
			if err != nil || got.Cmp(n) != 0 {
				t.Errorf("CRLNumber (entries %d) = %v, %v; want %v", entries, got, err, n)
			}
			rl, err := x509.ParseRevocationList(crl)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range rl.Extensions {
				if e.Id.Equal(OIDIssuingDistributionPoint) {
					if u, err := IDPURL(e.Value); err != nil || u != "http://x/crl" {
						t.Errorf("IDP read back as %q, %v", u, err)
					}
				}
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("junk"), {0x30, 0x03, 0x30, 0x01, 0x00}} {
		if _, err := CRLNumber(bad); err == nil {
			t.Errorf("CRLNumber(%x) gave no error", bad)
		}
	}
}
