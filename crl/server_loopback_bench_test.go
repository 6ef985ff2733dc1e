package crl

import (
	"bufio"
	"bytes"
	"context"
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
)

// BenchmarkServeOCSPLoopback serves repeated RFC 5019 GETs over keep-alive
// loopback connections through real servers configured as cmgpki serve
// configures them: the revocation handler (access log on, to a file) on the
// default fasthttp engine and on the net/http engine, the handler without
// its access log, and a bare net/http handler writing the same bytes (the
// net/http floor), measured in one process (the machine's drift cancels). Clients are raw TCP loops, cheap
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
	std := func(h http.Handler) func(net.Listener) func() {
		return func(ln net.Listener) func() {
			// As NewServer configures EngineStd (h is not always a *Handler here).
			srv := &http.Server{Handler: h, ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
				WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
			go srv.Serve(ln)
			return func() { srv.Close() }
		}
	}
	engine := func(h *Handler, eng Engine) func(net.Listener) func() {
		return func(ln net.Listener) func() {
			srv, err := NewServer(h, ServerConfig{Engine: eng})
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(ln)
			return func() { srv.Shutdown(context.Background()) }
		}
	}
	for _, tc := range []struct {
		name  string
		start func(net.Listener) func()
	}{
		{"cmgpki", engine(hl, EngineFast)},
		{"cmgpki-nethttp", engine(hl, EngineStd)},
		{"cmgpki-nethttp-nolog", std(NewHandler(HandlerConfig{Responder: h.responder, Store: h.store, Clock: h.clk}))},
		{"bare-nethttp", std(bare)},
	} {
		b.Run(tc.name, func(b *testing.B) { loopback(b, tc.start, target, len(body)) })
	}
}

func loopback(b *testing.B, start func(net.Listener) (stop func()), target string, want int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer start(ln)()
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
