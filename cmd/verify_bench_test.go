package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/verify"
)

// runCmdTB is runCmd for benchmarks.
func runCmdTB(tb testing.TB, args ...string) result {
	tb.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Clock: clock.Fixed(pkitest.At), Rand: rand.Reader, Getenv: func(string) string { return "" }}
	code := run(context.Background(), f, args)
	return result{code, out.String(), errOut.String()}
}

// BenchmarkVerifyLab verifies every certificate of the default lab (CAs
// included), each as its role, with revocation checked online as a
// ConfigMgr client does (OCSP, then the CDP) against serve on loopback.
// One iteration is the whole lab; the target is under 50 ms.
func BenchmarkVerifyLab(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(b.TempDir(), "lab")
	if r := runCmdTB(b, "lab", "create", "--out", dir, "--base-url", "http://"+addr); r.code != ExitOK {
		b.Fatalf("lab create: %s", r.errOut)
	}
	startServe(b, dir, addr)
	d, err := lab.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	roots, err := d.Roots()
	if err != nil {
		b.Fatal(err)
	}
	type item struct {
		in   verify.CertInput
		role string
	}
	var items []item
	var inters []*x509.Certificate
	for _, e := range d.Manifest.All() {
		c, err := d.Certificate(e.Name)
		if err != nil {
			b.Fatal(err)
		}
		if c.IsCA && !isSelfSigned(c) {
			inters = append(inters, c)
		}
		items = append(items, item{verify.CertInput{Bundle: &certio.Bundle{Name: e.Name, Format: certio.FormatPEM, Certs: []*x509.Certificate{c}}}, e.Role})
	}
	fetcher := &verify.HTTPFetcher{}
	check := func() []*verify.Report {
		var reps []*verify.Report
		for _, it := range items {
			rep, err := verify.CheckCertificate(context.Background(), it.in, verify.CertOptions{Profile: it.role,
				ChainOptions: verify.ChainOptions{Roots: roots, Intermediates: inters, At: pkitest.At,
					Revocation: verify.RevocationChainExcludeRoot, Fetcher: fetcher}})
			if err != nil {
				b.Fatal(err)
			}
			reps = append(reps, rep)
		}
		return reps
	}
	for _, rep := range check() {
		if rep.Chain.Elements[0].Revocation != nil && rep.Chain.Elements[0].Revocation.Source == "" && rep.Profile.Name != "wpj-device" {
			b.Errorf("%s: revocation not checked online", rep.Input.File)
		}
		b.Logf("%-22s %-20s max %-6s %v", rep.Input.File, rep.Profile.Name, rep.MaxLevel, findingIDs(rep))
	}
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		check()
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/lab")
	b.ReportMetric(float64(len(items)), "certs/lab")
}

func findingIDs(r *verify.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID)
	}
	return out
}
