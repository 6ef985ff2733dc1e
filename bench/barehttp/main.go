// Command barehttp is the net/http floor for bench/ocsp.sh: it answers every
// request (any path, GET or POST) with the bytes of one file, through a
// plain net/http server configured with the same timeouts as cmgpki serve.
// It is a benchmark reference only and is not part of cmgpki.
//
//	go run ./bench/barehttp -addr 127.0.0.1:18484 -file resp.der
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18484", "listen address (loopback)")
	file := flag.String("file", "", "file whose bytes every request gets")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error: barehttp: --file:", err)
		os.Exit(2)
	}
	ctype := []string{"application/ocsp-response"}
	clen := []string{strconv.Itoa(len(body))}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			io.Copy(io.Discard, io.LimitReader(r.Body, 16<<10))
		}
		hd := w.Header()
		hd["Content-Type"] = ctype
		hd["Content-Length"] = clen
		w.Write(body)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "Error: barehttp:", err)
		os.Exit(3)
	}
}
