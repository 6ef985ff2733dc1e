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

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/verify"
)

// selfSigned makes a throwaway certificate for the examples.
func selfSigned(subject pkix.Name, isCA bool) *x509.Certificate {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: at.Add(-time.Hour), NotAfter: at.Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: isCA}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, k.Public(), k)
	c, _ := x509.ParseCertificate(der)
	return c
}

// CompareRenewal judges a renewed CMG certificate against the one it
// replaces: the CN must be identical, letter case included (F08).
func ExampleCompareRenewal() {
	old := selfSigned(pkix.Name{CommonName: "mycmg.contoso.com", Organization: []string{"Contoso"}}, false)
	renewed := selfSigned(pkix.Name{CommonName: "MYCMG.CONTOSO.COM", Organization: []string{"Contoso"}}, false)
	for _, f := range verify.CompareRenewal(old, renewed, lint.Env{}) {
		fmt.Println(f.ID, f.Level)
		fmt.Println(f.Message)
	}
	// Output:
	// e_renewal_cn_changed error
	// the existing certificate has CN "mycmg.contoso.com", the new one "MYCMG.CONTOSO.COM": they differ in letter case, and the CMG compares case-sensitively
}

// CheckCMGTrusted checks that the CA certificates uploaded to a CMG cover
// the chains of its PKI clients (F16).
func ExampleCheckCMGTrusted() {
	root := selfSigned(pkix.Name{CommonName: "Contoso Root"}, true)
	issuing := selfSigned(pkix.Name{CommonName: "Contoso Issuing"}, true)
	issuing.RawIssuer = root.RawSubject // stands for a real issued intermediate
	client := selfSigned(pkix.Name{CommonName: "client01.contoso.com"}, false)
	chain := []*x509.Certificate{client, issuing, root}
	for _, f := range verify.CheckCMGTrusted([]*x509.Certificate{root}, [][]*x509.Certificate{chain}, lint.Env{}) {
		fmt.Println(f.ID+":", f.Message)
	}
	// Output:
	// e_cmg_trusted_intermediate_missing: intermediate CA certificate(s) not among the CMG's trusted certificates: CN=Contoso Issuing (for CN=client01.contoso.com); the CMG refuses these PKI clients (401 Unauthorized, cmg-failures.md F16; the handshake simulator answers 403 CMGService_ClientCertificateNotTrusted)
}
