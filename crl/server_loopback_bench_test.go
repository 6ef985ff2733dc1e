package crl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServeOCSPLoopback serves repeated RFC 5019 GETs over keep-alive
// loopback connections through a real net/http server configured as
// cmgpki serve configures it, for the revocation handler (access log on, to
// a file) and for a bare handler writing the same bytes: the ratio of the
// two is the handler's cost above the net/http floor, measured in one
// process (the machine's drift cancels); cmgpki-nolog is the handler
// without its access log. Clients are raw TCP loops, cheap
// next to the server; profile with -cpuprofile and look under net/http.
func BenchmarkServeOCSPLoopback(b *testing.B) {
	h, der := benchHandler(b)
	logf, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	hl := NewHandler(HandlerConfig{Responder: h.responder, Store: h.store, Clock: h.clk, AccessLog: logf})
	defer hl.Close()
	target := "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(der))
	resp, _ := h.responder.Respond(b.Context(), der)
	body := resp.DER
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = ocspContentType
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"cmgpki", hl}, {"cmgpki-nolog", NewHandler(HandlerConfig{Responder: h.responder, Store: h.store, Clock: h.clk})}, {"bare", bare}} {
		b.Run(tc.name, func(b *testing.B) { loopback(b, tc.h, target, len(body)) })
	}
}

func loopback(b *testing.B, h http.Handler, target string, want int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	go srv.Serve(ln)
	defer srv.Close()
	req := []byte("GET " + target + " HTTP/1.1\r\nHost: " + ln.Addr().String() + "\r\nUser-Agent: bench\r\n\r\n")
	const conns = 16
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	b.ResetTimer()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 8<<10)
			for left.Add(-1) >= 0 {
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				n := -1
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						errs <- err
						return
					}
					if len(line) <= 2 {
						break
					}
					if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
						n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
					}
				}
				if n != want {
					errs <- io.ErrUnexpectedEOF
					return
				}
				if _, err := br.Discard(n); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
