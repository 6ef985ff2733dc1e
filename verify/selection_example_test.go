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

// SelectClientCertificate shows which certificate a ConfigMgr client would
// pick and why it passed over the others.
func ExampleSelectClientCertificate() {
	at := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Contoso Root"},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, _ := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	root, _ := x509.ParseCertificate(der)
	client := func(serial int64, cn string, eku x509.ExtKeyUsage, years int) *x509.Certificate {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(serial),
			Subject: pkix.Name{CommonName: cn}, NotBefore: at.AddDate(0, 0, -1), NotAfter: at.AddDate(years, 0, -1),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}, root, k.Public(), rootKey)
		c, _ := x509.ParseCertificate(der)
		return c
	}
	issuers, _ := verify.ParseCertificateIssuers("CN=Contoso Root")
	res := verify.SelectClientCertificate([]verify.Candidate{
		{Name: "web.pfx", Cert: client(2, "client01.contoso.com", x509.ExtKeyUsageServerAuth, 1), HasKey: true},
		{Name: "old.pfx", Cert: client(3, "client01.contoso.com", x509.ExtKeyUsageClientAuth, 1), HasKey: true},
		{Name: "new.pfx", Cert: client(4, "client01.contoso.com", x509.ExtKeyUsageClientAuth, 2), HasKey: true},
	}, verify.SelectionOptions{At: at, Issuers: issuers, Roots: []*x509.Certificate{root}, ComputerName: "CLIENT01"})
	fmt.Println("selected:", res.Selected().Name)
	for _, c := range res.Candidates {
		if c.Excluded != nil {
			fmt.Printf("%s: step %d (%s): %s; expected %s\n", c.Name, c.Excluded.Step, c.Excluded.StepName, c.Excluded.Observed, c.Excluded.Expected)
		}
	}
	// Output:
	// selected: new.pfx
	// web.pfx: step 4 (client_auth): EKUs are [serverAuth]; expected clientAuth (1.3.6.1.5.5.7.3.2) in the extended key usage
	// old.pfx: step 6 (multiple): validity period 365 days (2026-11-21 to 2027-11-21); expected the longest validity period of the 2 matching certificates: "new.pfx" has 731 days (to 2028-11-21)
}
