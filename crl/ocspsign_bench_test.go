package crl

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// BenchmarkOCSPSign signs one response with an RSA-2048 CA (the cost of
// Refresh per record and of a cache miss).
func BenchmarkOCSPSign(b *testing.B) {
	r, ri, req := benchResponder(b)
	rec := &Record{Issuer: "ca", Serial: req.SerialNumber}
	now := pkitest.At
	for b.Loop() {
		if _, err := r.sign(ri, rec, req, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOCSPHotPath answers a repeated request from the pre-signed cache.
func BenchmarkOCSPHotPath(b *testing.B) {
	r, _, req := benchResponder(b)
	der, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: req.SerialNumber}, r.issuers[0].Cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Respond(ctx, der); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Respond(ctx, der); err != nil {
			b.Fatal(err)
		}
	}
}

func benchResponder(b *testing.B) (*Responder, *responderIssuer, *ocsp.Request) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	cert := selfCA(b, "Bench CA", key, nil, nil, false)
	st := NewMemStore()
	serial := big.NewInt(0x1234567890)
	if err := st.Record(context.Background(), Record{Issuer: "ca", Serial: serial, NotAfter: pkitest.At.AddDate(1, 0, 0)}); err != nil {
		b.Fatal(err)
	}
	r, err := NewResponder(ResponderConfig{Store: st, Clock: clock.Fixed(pkitest.At), Issuers: []Issuer{{Name: "ca", Cert: cert, Signer: key}}})
	if err != nil {
		b.Fatal(err)
	}
	return r, r.issuers[0], &ocsp.Request{HashAlgorithm: crypto.SHA1, SerialNumber: serial}
}
