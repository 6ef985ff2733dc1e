package crl

import (
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
	"time"

	"golang.org/x/crypto/ocsp"
)

// This file encodes and signs BasicOCSPResponses (RFC 6960 §4.2.1) itself,
// because ocsp.CreateResponse takes producedAt from the wall clock and has
// no option to set it. The structures and their encoding are those of
// x/crypto/ocsp v0.58.0 (responderID byName, SHA-256 with RSA, ECDSA with the
// curve's hash, one SingleResponse, no extensions, the delegated responder's
// certificate in certs), so the bytes differ from CreateResponse's only in
// producedAt; TestOCSPEncodingMatchesXCrypto holds them to that.

var (
	oidOCSPBasic       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// certIDHashOIDs are the CertID hash algorithms a request may use (the
// response's CertID repeats the request's).
var certIDHashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

type ocspResponseASN1 struct {
	Status   asn1.Enumerated
	Response ocspResponseBytes `asn1:"explicit,tag:0,optional"`
}

type ocspResponseBytes struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type ocspBasicResponse struct {
	TBSResponseData    asn1.RawValue // the signed ocspResponseData, as signed
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type ocspResponseData struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []ocspSingleResponse
}

type ocspCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type ocspSingleResponse struct {
	CertID     ocspCertID
	Good       asn1.Flag       `asn1:"tag:0,optional"`
	Revoked    ocspRevokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag       `asn1:"tag:2,optional"`
	ThisUpdate time.Time       `asn1:"generalized"`
	NextUpdate time.Time       `asn1:"generalized,explicit,tag:0,optional"`
}

type ocspRevokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"` // absent when 0 (unspecified)
}

// ocspSigner is what an issuer signs its OCSP responses with, prepared once.
type ocspSigner struct {
	key         crypto.Signer
	hash        crypto.Hash // digest signed
	alg         pkix.AlgorithmIdentifier
	responderID asn1.RawValue   // byName [1] EXPLICIT Name
	certs       []asn1.RawValue // the delegated responder's certificate, or none
}

// newOCSPSigner prepares signing by cert's key; delegated says cert is a
// delegated responder whose certificate goes into the responses.
func newOCSPSigner(cert *x509.Certificate, key crypto.Signer, delegated bool) (*ocspSigner, error) {
	s := &ocspSigner{key: key, responderID: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: cert.RawSubject}}
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		s.hash = crypto.SHA256
		s.alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P224(), elliptic.P256():
			s.hash, s.alg.Algorithm = crypto.SHA256, oidECDSAWithSHA256
		case elliptic.P384():
			s.hash, s.alg.Algorithm = crypto.SHA384, oidECDSAWithSHA384
		case elliptic.P521():
			s.hash, s.alg.Algorithm = crypto.SHA512, oidECDSAWithSHA512
		default:
			return nil, fmt.Errorf("ECDSA curve %s is not supported for OCSP signing", pub.Curve.Params().Name)
		}
	default:
		return nil, fmt.Errorf("%T keys are not supported for OCSP signing (RSA or ECDSA)", pub)
	}
	if delegated {
		s.certs = []asn1.RawValue{{FullBytes: cert.Raw}}
	}
	return s, nil
}

// ocspEntry is the content of one SingleResponse.
type ocspEntry struct {
	Hash                   crypto.Hash // of the CertID, as in the request
	Names                  issuerHashes
	Serial                 *big.Int
	Status                 int // ocsp.Good, ocsp.Revoked or ocsp.Unknown
	RevokedAt              time.Time
	Reason                 int
	ThisUpdate, NextUpdate time.Time
}

// sign returns a DER OCSPResponse (successful, id-pkix-ocsp-basic) for e,
// produced at producedAt. Times are encoded as GeneralizedTime in UTC to
// the second (RFC 6960 §4.2.2.1: no fractional seconds).
func (s *ocspSigner) sign(e ocspEntry, producedAt time.Time) ([]byte, error) {
	oid := certIDHashOIDs[e.Hash]
	if oid == nil {
		return nil, fmt.Errorf("CertID hash %v is not supported", e.Hash)
	}
	single := ocspSingleResponse{
		CertID: ocspCertID{
			HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue},
			NameHash:      e.Names.name,
			IssuerKeyHash: e.Names.key,
			SerialNumber:  e.Serial,
		},
		ThisUpdate: e.ThisUpdate.UTC(),
		NextUpdate: e.NextUpdate.UTC(),
	}
	switch e.Status {
	case ocsp.Good:
		single.Good = true
	case ocsp.Unknown:
		single.Unknown = true
	case ocsp.Revoked:
		single.Revoked = ocspRevokedInfo{RevocationTime: e.RevokedAt.UTC(), Reason: asn1.Enumerated(e.Reason)}
	default:
		return nil, fmt.Errorf("OCSP status %d is not good, revoked or unknown", e.Status)
	}
	tbs, err := asn1.Marshal(ocspResponseData{ResponderID: s.responderID, ProducedAt: producedAt.UTC(), Responses: []ocspSingleResponse{single}})
	if err != nil {
		return nil, err
	}
	h := s.hash.New()
	h.Write(tbs)
	sig, err := s.key.Sign(rand.Reader, h.Sum(nil), s.hash)
	if err != nil {
		return nil, err
	}
	basic, err := asn1.Marshal(ocspBasicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: s.alg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
		Certificates:       s.certs,
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(ocspResponseASN1{Response: ocspResponseBytes{ResponseType: oidOCSPBasic, Response: basic}})
}
