package crl

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/derutil"
)

// Issuer is a CA whose revocation data is published.
type Issuer struct {
	Name   string            // CA name, as in the manifest and the URLs
	Cert   *x509.Certificate // the CA certificate
	Signer crypto.Signer     // the CA key: CRLs are always signed by the CA itself
	// CRLURL is the CDP of the certificates this CA issues; the CRL's
	// IssuingDistributionPoint must equal it (Windows and OpenSSL compare them).
	CRLURL string
	// OCSPCert and OCSPSigner, when set, are a delegated OCSP responder
	// (ocspSigning EKU and ocsp-nocheck) issued by this CA. Nil means the CA
	// signs its own OCSP responses.
	OCSPCert   *x509.Certificate
	OCSPSigner crypto.Signer
}

// CRL is a generated, checked CRL.
type CRL struct {
	Issuer     string    `json:"issuer"`
	Number     *big.Int  `json:"number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	Entries    int       `json:"entries"`
	DER        []byte    `json:"-"`
	File       string    `json:"file,omitempty"` // DER file it was published to, if any

	checked bool // Generate ran Check on DER
}

// DefaultCRLValidity is nextUpdate - thisUpdate unless configured.
const DefaultCRLValidity = 7 * 24 * time.Hour

// Generate makes and checks the CRL of iss from the store's revoked entries
// as of now: entries sorted by serial (consumers such as OpenSSL look up
// sorted CRLs faster, and output is deterministic), a CRL number from the
// store (strictly increasing across processes), thisUpdate = now and
// nextUpdate = now + validity, an IDP equal to iss.CRLURL, signed by the CA
// itself (Windows rejects CRLs signed by a separate CRL-signing certificate).
func Generate(ctx context.Context, st Store, iss Issuer, now time.Time, validity time.Duration) (*CRL, error) {
	if validity <= 0 {
		validity = DefaultCRLValidity
	}
	recs, err := st.Revoked(ctx, iss.Name, now)
	if err != nil {
		return nil, err
	}
	number, err := st.NextCRLNumber(ctx, iss.Name)
	if err != nil {
		return nil, err
	}
	return build(iss, recs, number, now, validity)
}

func build(iss Issuer, recs []Record, number *big.Int, now time.Time, validity time.Duration) (*CRL, error) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Serial.Cmp(recs[j].Serial) < 0 })
	entries := make([]x509.RevocationListEntry, len(recs))
	for i, r := range recs {
		entries[i] = x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: r.RevokedAt, ReasonCode: r.Reason}
	}
	idp, err := derutil.IDPExtension(iss.CRLURL)
	if err != nil {
		return nil, fmt.Errorf("crl: %s: encoding IDP: %w", iss.Name, err)
	}
	this := now.UTC().Truncate(time.Second)
	tpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                this,
		NextUpdate:                this.Add(validity),
		RevokedCertificateEntries: entries,
		ExtraExtensions:           []pkix.Extension{idp},
	}
	cas, err := softcas.New(context.Background(), apiv1.Options{CertificateChain: []*x509.Certificate{iss.Cert}, Signer: iss.Signer})
	if err != nil {
		return nil, fmt.Errorf("crl: %s: %w", iss.Name, err)
	}
	resp, err := cas.CreateCRL(&apiv1.CreateCRLRequest{RevocationList: tpl})
	if err != nil {
		return nil, fmt.Errorf("crl: signing CRL %s of %s: %w", number, iss.Name, err)
	}
	c := &CRL{Issuer: iss.Name, Number: number, ThisUpdate: tpl.ThisUpdate, NextUpdate: tpl.NextUpdate, Entries: len(entries), DER: resp.CRL}
	if err := Check(c.DER, iss, nil); err != nil {
		return nil, err
	}
	c.checked = true
	return c, nil
}

// Check is the publish-time check (as boulder's storer does): the CRL
// parses, its signature verifies against the issuer, thisUpdate precedes
// nextUpdate, the IDP equals the issuer's CDP URL, the entries are sorted,
// and the number is strictly greater than prev (when prev is not nil).
func Check(der []byte, iss Issuer, prev *big.Int) error {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("crl: %s: CRL does not parse: %w", iss.Name, err)
	}
	if err := rl.CheckSignatureFrom(iss.Cert); err != nil {
		return fmt.Errorf("crl: %s: CRL signature does not verify against the CA: %w", iss.Name, err)
	}
	if !rl.NextUpdate.After(rl.ThisUpdate) {
		return fmt.Errorf("crl: %s: nextUpdate %s is not after thisUpdate %s", iss.Name, rl.NextUpdate, rl.ThisUpdate)
	}
	if rl.Number == nil || (prev != nil && rl.Number.Cmp(prev) <= 0) {
		return fmt.Errorf("crl: %s: CRL number %v is not greater than the published %v", iss.Name, rl.Number, prev)
	}
	found := false
	for _, e := range rl.Extensions {
		if e.Id.Equal(derutil.OIDIssuingDistributionPoint) {
			u, err := derutil.IDPURL(e.Value)
			if err != nil {
				return fmt.Errorf("crl: %s: %w", iss.Name, err)
			}
			if u != iss.CRLURL {
				return fmt.Errorf("crl: %s: IDP %q differs from the certificates' CDP %q", iss.Name, u, iss.CRLURL)
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("crl: %s: CRL has no IssuingDistributionPoint", iss.Name)
	}
	for i := 1; i < len(rl.RevokedCertificateEntries); i++ {
		if rl.RevokedCertificateEntries[i-1].SerialNumber.Cmp(rl.RevokedCertificateEntries[i].SerialNumber) >= 0 {
			return fmt.Errorf("crl: %s: entries are not sorted by serial", iss.Name)
		}
	}
	return nil
}

// Publish writes c as DIR/NAME.crl (DER) and DIR/NAME.pem after checking it
// against the CRL already there: a number that does not increase is refused
// (another writer published a newer one).
func Publish(dir string, c *CRL, iss Issuer) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("crl: %w", err)
	}
	path := filepath.Join(dir, iss.Name+".crl")
	var prev *big.Int
	if old, err := os.ReadFile(path); err == nil {
		prev, _ = derutil.CRLNumber(old) // an unreadable old file is replaced
	}
	if !c.checked {
		if err := Check(c.DER, iss, prev); err != nil {
			return "", err
		}
	} else if prev != nil && c.Number.Cmp(prev) <= 0 {
		return "", fmt.Errorf("crl: %s: CRL number %v is not greater than the published %v (another process published a newer CRL)", iss.Name, c.Number, prev)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: c.DER})
	if err := certio.WriteFileAtomic(filepath.Join(dir, iss.Name+".pem"), pemBytes, 0o644); err != nil {
		return "", fmt.Errorf("crl: %w", err)
	}
	if err := certio.WriteFileAtomic(path, c.DER, 0o644); err != nil {
		return "", fmt.Errorf("crl: %w", err)
	}
	c.File = path
	return path, nil
}
