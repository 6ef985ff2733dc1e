package handshake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/lab"
)

// Materials are the certificates and keys of one simulated deployment, read
// once from a lab and reused by every run (keys are the slow part).
type Materials struct {
	Lab *lab.Dir
	// BaseURL is the lab's revocation base URL; its host is mapped to the
	// in-process revocation server.
	BaseURL *url.URL
	// EnterpriseRoot is the root of the CMG server certificate's chain; the
	// WPJ root is the MS-Organization-Access CA.
	EnterpriseRoot, WPJRoot *x509.Certificate
	// Intermediates are the lab's non-root CAs.
	Intermediates []*x509.Certificate
	// CMG, MP and CP are the server and connection point certificates with
	// their chains (no root); Client and Device are the PKI client and WPJ
	// device certificates, nil when the lab has none.
	CMG, MP, CP    tls.Certificate
	Client, Device *tls.Certificate
	CMGName        string // first DNS name of the CMG certificate
	MPName         string // first DNS name of the MP certificate

	// extraRoots and extraInters are the user's (WithOwn).
	extraRoots, extraInters []*x509.Certificate

	issuers []crl.Issuer
	entries []lab.Entry

	// The simulated public PKI: a root "already in the client's default
	// store" and the Entra token service's TLS certificate under it, made
	// in memory (ECDSA P-256) because a lab holds no Microsoft certificate.
	publicRoot *x509.Certificate
	entraTLS   tls.Certificate
	// publicCMG is a third-party CMG certificate for the CMG's name under
	// the public root.
	publicCMG tls.Certificate
	// signing is the client's self-signed SMS signing certificate
	// (registration), RSA as the real one.
	signing    tls.Certificate
	signingKey *rsa.PrivateKey
	// Token signing keys of Entra and of the site (CCM tokens).
	entraKey, siteKey *ecdsa.PrivateKey
}

// Load reads the lab in dir. keyPassword decrypts encrypted key files (nil
// for plain ones).
func Load(dir string, keyPassword []byte) (*Materials, error) {
	d, err := lab.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	m := &Materials{Lab: d}
	if m.BaseURL, err = url.Parse(d.Manifest.BaseURL); err != nil || m.BaseURL.Host == "" {
		return nil, fmt.Errorf("handshake: %s: base_url %q is not a URL", dir, d.Manifest.BaseURL)
	}
	byRole := func(role string) string {
		for _, e := range d.Manifest.Certificates {
			if e.Role == role {
				return e.Name
			}
		}
		return ""
	}
	load := func(role string, required bool) (*tls.Certificate, error) {
		name := byRole(role)
		if name == "" {
			if required {
				return nil, fmt.Errorf("handshake: lab %s has no %s certificate", dir, role)
			}
			return nil, nil
		}
		tc, err := d.TLSCertificate(name, keyPassword)
		if err != nil {
			return nil, fmt.Errorf("handshake: %s certificate %s: %w", role, name, err)
		}
		return &tc, nil
	}
	for _, r := range []struct {
		role string
		dst  *tls.Certificate
	}{{"cmg-server", &m.CMG}, {"mp-https", &m.MP}, {"cmg-connection-point", &m.CP}} {
		tc, err := load(r.role, true)
		if err != nil {
			return nil, err
		}
		*r.dst = *tc
	}
	if m.Client, err = load("pki-client", false); err != nil {
		return nil, err
	}
	if m.Device, err = load("wpj-device", false); err != nil {
		return nil, err
	}
	if len(m.CMG.Leaf.DNSNames) == 0 || len(m.MP.Leaf.DNSNames) == 0 {
		return nil, fmt.Errorf("handshake: lab %s: the CMG and MP certificates need a DNS name", dir)
	}
	m.CMGName, m.MPName = m.CMG.Leaf.DNSNames[0], m.MP.Leaf.DNSNames[0]
	for _, e := range d.Manifest.CAs {
		c, err := d.Certificate(e.Name)
		if err != nil {
			return nil, fmt.Errorf("handshake: %w", err)
		}
		switch {
		case e.Role == "wpj-ca":
			m.WPJRoot = c
		case e.IssuerName != e.Name:
			m.Intermediates = append(m.Intermediates, c)
		}
	}
	chain, err := d.Chain(byRole("cmg-server"))
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	for _, e := range d.Manifest.CAs {
		if e.IssuerName == e.Name && e.Role != "wpj-ca" {
			c, _ := d.Certificate(e.Name)
			if c != nil && string(c.RawSubject) == string(chain[len(chain)-1].RawIssuer) {
				m.EnterpriseRoot = c
			}
		}
	}
	if m.EnterpriseRoot == nil {
		return nil, fmt.Errorf("handshake: lab %s: no root CA issues the CMG certificate's chain", dir)
	}
	lis, err := d.Issuers(keyPassword)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	for _, x := range lis {
		m.issuers = append(m.issuers, crl.Issuer(x))
	}
	m.entries = append(append([]lab.Entry{}, d.Manifest.CAs...), d.Manifest.Certificates...)
	if err := m.makePublic(); err != nil {
		return nil, err
	}
	return m, nil
}

// makePublic makes the simulated public root, the Entra TLS certificate,
// a third-party CMG certificate and the token signing keys. Their validity
// spans the CMG certificate's, so they are valid whenever it is.
func (m *Materials) makePublic() error {
	nb, na := m.CMG.Leaf.NotBefore.Add(-24*time.Hour), m.CMG.Leaf.NotAfter.Add(24*time.Hour)
	key := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	rootKey, err := key()
	if err != nil {
		return fmt.Errorf("handshake: public root key: %w", err)
	}
	rootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Simulated Public Root (cmgpki handshake)"},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rootT, rootT, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("handshake: public root: %w", err)
	}
	if m.publicRoot, err = x509.ParseCertificate(der); err != nil {
		return err
	}
	pub := layout.For(m.BaseURL.String(), publicCAName)
	m.issuers = append(m.issuers, crl.Issuer{Name: publicCAName, Cert: m.publicRoot, Signer: rootKey, CRLURL: pub.CRL})
	leaf := func(serial int64, name string, cdp []string) (tls.Certificate, error) {
		k, err := key()
		if err != nil {
			return tls.Certificate{}, err
		}
		t := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, CRLDistributionPoints: cdp}
		der, err := x509.CreateCertificate(rand.Reader, t, m.publicRoot, k.Public(), rootKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("handshake: public certificate %s: %w", name, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: c}, nil
	}
	if m.entraTLS, err = leaf(2, entraHost, nil); err != nil {
		return err
	}
	if m.publicCMG, err = leaf(3, m.CMGName, []string{pub.CRL}); err != nil {
		return err
	}
	if m.signingKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return fmt.Errorf("handshake: client signing key: %w", err)
	}
	st := &x509.Certificate{SerialNumber: big.NewInt(4), Subject: pkix.Name{CommonName: "SMS"}, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, UnknownExtKeyUsage: []asn1.ObjectIdentifier{ekuSMSSigning}}
	sd, err := x509.CreateCertificate(rand.Reader, st, st, m.signingKey.Public(), m.signingKey)
	if err != nil {
		return fmt.Errorf("handshake: client signing certificate: %w", err)
	}
	sc, err := x509.ParseCertificate(sd)
	if err != nil {
		return err
	}
	m.signing = tls.Certificate{Certificate: [][]byte{sd}, PrivateKey: m.signingKey, Leaf: sc}
	if m.entraKey, err = key(); err != nil {
		return err
	}
	m.siteKey, err = key()
	return err
}

// publicCAName is the simulated public CA's name in revocation URLs.
const publicCAName = "sim-public-ca"

// inLab reports whether c is one of the lab's certificates.
func (m *Materials) inLab(c *x509.Certificate) bool {
	for _, e := range m.entries {
		if e.Serial == crl.SerialHex(c.SerialNumber) && e.Subject == c.Subject.String() {
			return true
		}
	}
	return false
}
