package verify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/cmgpki/cmgpki/verify"
)

// CheckCRL judges a CRL as the one a client would fetch for the issuer's
// certificates: this one was published a week ago and expired an hour ago.
func ExampleCheckCRL() {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Contoso Issuing"},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	issuer, _ := x509.ParseCertificate(der)
	crl, _ := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(42),
		ThisUpdate: at.Add(-7 * 24 * time.Hour), NextUpdate: at.Add(-time.Hour)}, issuer, key)

	rep := verify.CheckCRL(crl, issuer, at)
	fmt.Println("CRL", rep.Number, "worst:", rep.Max())
	for _, f := range rep.Findings {
		fmt.Println(f.Level, f.ID, f.Windows.Name, f.Windows.HRESULT)
	}
	// Output:
	// CRL 42 worst: error
	// error crl_expired CRYPT_E_REVOCATION_OFFLINE 0x80092013
}
