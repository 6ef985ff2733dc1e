package crl

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cmgpki/cmgpki/internal/certio"
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

var oidIDP = asn1.ObjectIdentifier{2, 5, 29, 28}

// idpExtension encodes a critical IssuingDistributionPoint holding only
// distributionPoint fullName = url (RFC 5280 5.2.5). crypto/x509 has no
// support for it. No onlyContainsUserCerts: it breaks OpenSSL scope matching
// for CRLs that also cover CA certificates (step-ca #2250).
func idpExtension(url string) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // distributionPoint
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // fullName
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { // uniformResourceIdentifier
					b.AddBytes([]byte(url))
				})
			})
		})
	})
	v, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidIDP, Critical: true, Value: v}, nil
}

// idpURL extracts the fullName URI of an IDP extension value.
func idpURL(v []byte) (string, error) {
	s := cryptobyte.String(v)
	var seq, dp, full, uri cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) ||
		!seq.ReadASN1(&dp, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!dp.ReadASN1(&full, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!full.ReadASN1(&uri, cbasn1.Tag(6).ContextSpecific()) {
		return "", errors.New("IssuingDistributionPoint has no fullName URI")
	}
	return string(uri), nil
}

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
	idp, err := idpExtension(iss.CRLURL)
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
		if e.Id.Equal(oidIDP) {
			u, err := idpURL(e.Value)
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
		prev, _ = crlNumber(old) // an unreadable old file is replaced
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

var oidCRLNumber = asn1.ObjectIdentifier{2, 5, 29, 20}

// crlNumber reads only the cRLNumber of a DER CRL, skipping the entries, so
// checking the previously published number costs nothing for large CRLs.
func crlNumber(der []byte) (*big.Int, error) {
	in := cryptobyte.String(der)
	var certList, tbs cryptobyte.String
	if !in.ReadASN1(&certList, cbasn1.SEQUENCE) || !certList.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("not a CRL")
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) { // version
		return nil, errors.New("bad version")
	}
	for _, tag := range []cbasn1.Tag{cbasn1.SEQUENCE, cbasn1.SEQUENCE} { // signature, issuer
		if !tbs.SkipASN1(tag) {
			return nil, errors.New("bad CRL header")
		}
	}
	for i := 0; i < 2; i++ { // thisUpdate, optional nextUpdate
		if tbs.PeekASN1Tag(cbasn1.UTCTime) {
			tbs.SkipASN1(cbasn1.UTCTime)
		} else if tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
			tbs.SkipASN1(cbasn1.GeneralizedTime)
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) && !tbs.SkipASN1(cbasn1.SEQUENCE) { // revokedCertificates
		return nil, errors.New("bad revoked list")
	}
	var exts, list cryptobyte.String
	if !tbs.ReadASN1(&exts, cbasn1.Tag(0).ContextSpecific().Constructed()) || !exts.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, errors.New("CRL has no extensions")
	}
	for !list.Empty() {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return nil, errors.New("bad extension")
		}
		if !oid.Equal(oidCRLNumber) {
			continue
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN)
		var val cryptobyte.String
		n := new(big.Int)
		if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) || !val.ReadASN1Integer(n) {
			return nil, errors.New("bad cRLNumber")
		}
		return n, nil
	}
	return nil, errors.New("CRL has no cRLNumber")
}
