package ca

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

var benchNB = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchAuthority(b *testing.B) *Authority {
	b.Helper()
	ctx := context.Background()
	key, err := GenerateKey(profiles.RSA2048)
	if err != nil {
		b.Fatal(err)
	}
	env := lint.Env{At: benchNB}
	root, err := SelfSign(ctx, Request{Profile: profiles.MustGet(profiles.RootCA), CommonName: "Bench Root", Serial: DerivedSerial("root"), NotBefore: benchNB}, key, env)
	if err != nil {
		b.Fatal(err)
	}
	return &Authority{Name: "root-ca", Role: profiles.RootCA, Cert: root, Signer: key, BaseURL: "http://127.0.0.1:8080"}
}

func benchIssue(b *testing.B, reuse bool) {
	a := benchAuthority(b)
	p := profiles.MustGet(profiles.PKIClient)
	key, err := GenerateKey(profiles.RSA2048)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if !reuse {
			if key, err = GenerateKey(profiles.RSA2048); err != nil {
				b.Fatal(err)
			}
		}
		serial, _ := RandomSerial(rand.Reader)
		_, err := a.Issue(context.Background(), Request{Profile: p, CommonName: "client.contoso.com", DNSNames: []string{"client.contoso.com"},
			PublicKey: key.Public(), Serial: serial, NotBefore: benchNB}, lint.Env{At: benchNB})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueFreshKey issues one pki-client certificate including RSA-2048
// key generation (the cost of a new certificate).
func BenchmarkIssueFreshKey(b *testing.B) { benchIssue(b, false) }

// BenchmarkIssueReusedKey issues one pki-client certificate with a reused key
// (lint, sign, re-lint).
func BenchmarkIssueReusedKey(b *testing.B) { benchIssue(b, true) }

// BenchmarkLab1000ClientsReusedKeys makes a lab of 1,000 client certificates
// with reused keys, all files written (target: under 2 s).
func BenchmarkLab1000ClientsReusedKeys(b *testing.B) {
	keys := b.TempDir()
	n, d := 1000, 0
	spec := &LabSpec{Clients: &n, Devices: &d}
	mk := func(out string) {
		_, err := CreateLab(context.Background(), spec, LabOptions{Out: out, Keys: KeyStore{Dir: keys}, Clock: clock.Fixed(benchNB), PFXPassword: "bench"})
		if err != nil {
			b.Fatal(err)
		}
	}
	mk(b.TempDir() + "/warm") // generate the keys once
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		mk(b.TempDir() + "/lab")
	}
}
