// Package derutil holds the DER helpers that more than one package needs
// for what crypto/x509 does not parse or build: the CRL
// IssuingDistributionPoint and a cheap read of a CRL's cRLNumber. It uses
// only the standard library and golang.org/x/crypto/cryptobyte, so crl,
// verify and any later reader can import it.
package derutil

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDIssuingDistributionPoint is id-ce-issuingDistributionPoint (RFC 5280 5.2.5).
var OIDIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// IDPExtension encodes a critical IssuingDistributionPoint holding only
// distributionPoint fullName = url (RFC 5280 5.2.5). crypto/x509 has no
// support for it. No onlyContainsUserCerts: it breaks OpenSSL scope matching
// for CRLs that also cover CA certificates (step-ca #2250).
func IDPExtension(url string) (pkix.Extension, error) {
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
		return pkix.Extension{}, fmt.Errorf("derutil: encoding IssuingDistributionPoint %q: %w", url, err)
	}
	return pkix.Extension{Id: OIDIssuingDistributionPoint, Critical: true, Value: v}, nil
}

// IDPURL extracts the fullName URI of an IDP extension value.
func IDPURL(v []byte) (string, error) {
	s := cryptobyte.String(v)
	var seq, dp, full, uri cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) ||
		!seq.ReadASN1(&dp, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!dp.ReadASN1(&full, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!full.ReadASN1(&uri, cbasn1.Tag(6).ContextSpecific()) {
		return "", errors.New("derutil: IssuingDistributionPoint has no fullName URI")
	}
	return string(uri), nil
}

// OIDCRLNumber is id-ce-cRLNumber (RFC 5280 5.2.3).
var OIDCRLNumber = asn1.ObjectIdentifier{2, 5, 29, 20}

// CRLNumber reads only the cRLNumber of a DER CRL, skipping the entries, so
// checking the previously published number costs nothing for large CRLs.
func CRLNumber(der []byte) (*big.Int, error) {
	in := cryptobyte.String(der)
	var certList, tbs cryptobyte.String
	if !in.ReadASN1(&certList, cbasn1.SEQUENCE) || !certList.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("derutil: not a CRL")
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) { // version
		return nil, errors.New("derutil: bad version")
	}
	for _, tag := range []cbasn1.Tag{cbasn1.SEQUENCE, cbasn1.SEQUENCE} { // signature, issuer
		if !tbs.SkipASN1(tag) {
			return nil, errors.New("derutil: bad CRL header")
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
		return nil, errors.New("derutil: bad revoked list")
	}
	var exts, list cryptobyte.String
	if !tbs.ReadASN1(&exts, cbasn1.Tag(0).ContextSpecific().Constructed()) || !exts.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, errors.New("derutil: CRL has no extensions")
	}
	for !list.Empty() {
		var ext cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return nil, errors.New("derutil: bad extension")
		}
		if !oid.Equal(OIDCRLNumber) {
			continue
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN)
		var val cryptobyte.String
		n := new(big.Int)
		if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) || !val.ReadASN1Integer(n) {
			return nil, errors.New("derutil: bad cRLNumber")
		}
		return n, nil
	}
	return nil, errors.New("derutil: CRL has no cRLNumber")
}
