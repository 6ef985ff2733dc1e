package cmd

import (
	"bytes"
	"context"
	"crypto/x509"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/pgtest"
	"github.com/cmgpki/cmgpki/lab"
)

// BenchmarkRevocationPropagation: two serve processes on one database; each
// revocation is committed through the store and the time until both
// instances answer "revoked" over OCSP is measured (reported as p50/p99 in
// ms). Run with -benchtime=1x.
func BenchmarkRevocationPropagation(b *testing.B) {
	c := pgtest.Shared(b)
	one, two := freePortTB(b), freePortTB(b)
	dir, store := pgLab(b, c, one, "--clients", "60", "--devices", "0")
	startPGServe(b, dir, store, one, "--poll", "30s")
	startPGServe(b, dir, store, two, "--poll", "30s")
	ctx := context.Background()
	st, err := crl.OpenPostgres(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	iss, _ := certio.ReadCertificate(filepath.Join(dir, "ca", "issuing-ca.crt"))
	m, _ := lab.ReadManifest(dir)
	var serials []*big.Int
	for _, e := range m.Certificates {
		if e.IssuerName == "issuing-ca" {
			s, _ := crl.ParseSerial(e.Serial)
			serials = append(serials, s)
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for _, s := range serials {
			start := time.Now()
			if _, _, err := st.Revoke(ctx, "issuing-ca", s, time.Unix(0, 0), ocsp.Superseded); err != nil {
				b.Fatal(err)
			}
			cert := &x509.Certificate{SerialNumber: s}
			for _, addr := range []string{one, two} {
				for {
					if got, err := ocspStatusOf(iss, cert, addr); err == nil && got == ocsp.Revoked {
						break
					}
					if time.Since(start) > 10*time.Second {
						b.Fatalf("serial %x not revoked on %s after 10 s", s, addr)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			lat = append(lat, time.Since(start))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(float64(len(lat)), "revocations")
}

func freePortTB(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// BenchmarkOCSPThroughNginx: OCSP POST requests per second through nginx
// with one instance behind it and with two (16 client connections, 3 s).
// On a 2-core machine client, nginx and instances share the cores.
func BenchmarkOCSPThroughNginx(b *testing.B) {
	c := pgtest.Shared(b)
	for _, n := range []int{1, 2} {
		b.Run(map[int]string{1: "one-instance", 2: "two-instances"}[n], func(b *testing.B) {
			lb, one, two := freePortTB(b), freePortTB(b), freePortTB(b)
			dir, store := pgLab(b, c, lb)
			startPGServe(b, dir, store, one)
			if n == 2 {
				startPGServe(b, dir, store, two)
			} else {
				two = one
			}
			startNginx(b, lb, one, two)
			iss, _ := certio.ReadCertificate(filepath.Join(dir, "ca", "issuing-ca.crt"))
			cert, _ := certio.ReadCertificate(filepath.Join(dir, "certs", "client01.crt"))
			req, _ := ocsp.CreateRequest(cert, iss, nil)
			cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var ok, bad atomic.Int64
			b.ResetTimer()
			for b.Loop() {
				deadline := time.Now().Add(3 * time.Second)
				var wg sync.WaitGroup
				for range 16 {
					wg.Go(func() {
						for time.Now().Before(deadline) {
							resp, err := cl.Post("http://"+lb+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
							if err != nil {
								bad.Add(1)
								continue
							}
							var buf bytes.Buffer
							buf.ReadFrom(resp.Body)
							resp.Body.Close()
							if resp.StatusCode == 200 {
								ok.Add(1)
							} else {
								bad.Add(1)
							}
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(ok.Load())/3/float64(b.N), "req/s")
			b.ReportMetric(float64(bad.Load()), "failed")
		})
	}
}
