package crl

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/ocsp"
)

// memListener is a net.Listener whose connections are in-memory pipes:
// the servers run exactly as on TCP (their own request parsers, framing,
// keep-alive and error answers) at a fraction of the cost per request.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial returns the client end of a new connection to the server.
func (l *memListener) dial() (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		c.Close()
		s.Close()
		return nil, net.ErrClosed
	case <-time.After(10 * time.Second):
		c.Close()
		s.Close()
		return nil, errors.New("the server accepts no connection")
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// wireAnswer is a server's answer to one request as a client reads it,
// and what the connection did next.
type wireAnswer struct {
	status int
	header http.Header
	body   []byte
	// next is the status of the answer to a GET /nope sent on the same
	// connection after the answer, 0 if the server had closed it; after
	// is anything else that came (no bytes may follow an answer but the
	// next answer).
	next  int
	after []byte
	err   error
}

// nextRequest is sent on a connection after the answer to the fuzzed
// request.
const nextRequest = "GET /nope HTTP/1.1\r\nHost: ocsp.test\r\nConnection: close\r\n\r\n"

// exchange sends raw on a new keep-alive connection to ln and reads the
// answer to method; then it calls between and, unless the server closed
// the connection, sends nextRequest and reads the connection to its end.
// (Keep-alive rather than Connection: close on the fuzzed request:
// net/http waits 500 ms before closing a connection whose request body
// the handler left unread.)
func exchange(ln *memListener, raw []byte, method string, between func()) wireAnswer {
	c, err := ln.dial()
	if err != nil {
		return wireAnswer{err: err}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// A pipe has no buffer: write while reading (the server may answer
	// and close before it has read the whole request).
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(raw)
		wrote <- err
	}()
	br := bufio.NewReader(c)
	var resp *http.Response
	for {
		if resp, err = http.ReadResponse(br, &http.Request{Method: method}); err != nil {
			return wireAnswer{err: fmt.Errorf("reading the answer: %w", err)}
		}
		if resp.StatusCode != http.StatusContinue {
			break
		}
		// An Expect: 100-continue the fuzzer wrote. net/http sends the
		// interim answer when the handler reads the body, fasthttp before
		// the handler: neither is compared.
	}
	a := wireAnswer{status: resp.StatusCode, header: resp.Header}
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		a.err = fmt.Errorf("reading the body: %w", err)
		return a
	}
	between()
	closed := func(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) }
	if err := <-wrote; err != nil && !closed(err) {
		a.err = fmt.Errorf("writing the request: %w", err)
		return a
	}
	if _, err := io.WriteString(c, nextRequest); err != nil {
		if !closed(err) {
			a.err = fmt.Errorf("writing the next request: %w", err)
		}
		a.after, _ = io.ReadAll(br)
		return a
	}
	next, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	switch {
	case closed(err) && br.Buffered() == 0:
		return a
	case err != nil:
		rest, _ := io.ReadAll(br)
		a.after = append([]byte("no answer ("+err.Error()+"): "), rest...)
		return a
	}
	a.next = next.StatusCode
	io.Copy(io.Discard, next.Body)
	a.after, err = io.ReadAll(br)
	if err != nil && !closed(err) {
		a.err = fmt.Errorf("reading after the next answer: %w", err)
	}
	return a
}

// enginePair is one handler per engine, each behind a crl.Server (as
// NewServer configures it for cmgpki serve) on an in-memory listener.
type enginePair struct {
	std, fast     *Handler
	stdLn, fastLn *memListener
}

func newEnginePair(tb testing.TB, rig *engineRig, base string) *enginePair {
	p := &enginePair{std: rig.handler(base, nil), fast: rig.handler(base, nil), stdLn: newMemListener(), fastLn: newMemListener()}
	for _, e := range []struct {
		eng Engine
		h   *Handler
		ln  *memListener
	}{{EngineStd, p.std, p.stdLn}, {EngineFast, p.fast, p.fastLn}} {
		srv, err := NewServer(e.h, ServerConfig{Engine: e.eng})
		if err != nil {
			tb.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(e.ln) }()
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				tb.Errorf("%s: Shutdown: %v", e.eng, err)
			}
			if err := <-served; err != nil {
				tb.Errorf("%s: Serve: %v", e.eng, err)
			}
		})
	}
	return p
}

// fuzzMethods are the methods FuzzServingPaths picks from.
var fuzzMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions}

// fuzzHeaders are the extra headers FuzzServingPaths picks from: framing
// and conditional requests, which the servers handle themselves.
var fuzzHeaders = []string{
	"",
	"Transfer-Encoding: chunked", // the body is sent chunked, without Content-Length
	"Expect: 100-continue",
	"Range: bytes=0-9",
	"If-Modified-Since: Mon, 01 Jan 2035 00:00:00 GMT",
	"Connection: close",
	"Accept-Encoding: gzip",
	"Transfer-Encoding: chunked\r\nContent-Length: 5", // both (and the body chunked)
}

// FuzzServingPaths sends the same request to both engines, each running
// the server cmgpki serve runs (NewServer) on an in-memory connection, and
// requires the same answer: status, body, every header but Date and
// Connection (Content-Length included), nothing after the answer, the
// same fate of the connection (a GET sent on it after the answer is
// answered by both, or it is closed by both), and the same change of the
// handler's request counter (so /healthz bodies, which show it, are equal
// too). The request is free in its request line (a method, a raw request
// target and a protocol, which may hold spaces but not line breaks), its
// body and its If-None-Match value, and has one of fuzzHeaders; the
// header block is otherwise fixed: header parsing is the servers' own, and
// their parsers differ in what they tolerate there.
//
// A request net/http's server refuses before the handler (400: a target
// it cannot parse, an invalid request line; 505: a major version other
// than 1) must be refused by fasthttp too (400 or 505), and the other way
// round; the two servers' error bodies differ. On the OCSP routes no
// answer is a 5xx, and a 200 is an OCSP response (signed, or an error
// status), as in FuzzOCSPHandler.
//
// Known differences, allowed (the servers', not the handler's):
//   - fasthttp's parser refuses (400) a target in asterisk form but for
//     OPTIONS and an absolute URI without "://"; net/http hands both to
//     the handler.
//   - fasthttp refuses (400) a Transfer-Encoding in a request other than
//     HTTP/1.1 (RFC 9112 6.1 calls its framing faulty); net/http serves it.
//   - fasthttp refuses (413) any body over MaxRequestBytes; net/http only
//     the OCSP POST's, the one body it reads.
//   - fasthttp closes the connection after a request with both
//     Transfer-Encoding and Content-Length (RFC 9112 6.3); net/http keeps it.
//   - net/http closes the connection after an Expect: 100-continue
//     request whose body the handler did not read; fasthttp, which sent
//     100 Continue and read the body before the handler, keeps it.
//   - fasthttp reads a request of HTTP/1.2 to 1.9 as HTTP/1.0 (and closes
//     the connection after it); net/http reads it as HTTP/1.1.
func FuzzServingPaths(f *testing.F) {
	rig := newEngineRig(f, nil)
	// The servers live as long as the fuzz test, across inputs: by "under
	// the base path /pki".
	pairs := map[bool]*enginePair{false: newEnginePair(f, rig, ""), true: newEnginePair(f, rig, "/pki")}
	sha1, sha256 := rig.req(f, crypto.SHA1), rig.req(f, crypto.SHA256)
	odd := oddRequest(f, rig)
	b64 := base64.StdEncoding.EncodeToString
	etag := func(der []byte) string {
		resp, err := rig.resp.Respond(f.Context(), der)
		if err != nil {
			f.Fatal(err)
		}
		return resp.ETag
	}
	crlETag := func() string {
		raw := []byte(rawGet(http.MethodGet, "/crl/issuing-ca.crl", "Connection: close"))
		exchange(pairs[false].fastLn, raw, http.MethodGet, func() {}) // both counters move
		return exchange(pairs[false].stdLn, raw, http.MethodGet, func() {}).header.Get("Etag")
	}()
	const get, head, post, put, options = 0, 1, 2, 3, 5
	const chunkedTE, expect, rangeHdr, ims, closeHdr, gzip, bothLengths = 1, 2, 3, 4, 5, 6, 7
	type seed struct {
		method uint8
		target string
		proto  string
		body   []byte
		inm    string
		extra  uint8
		pki    bool
	}
	seeds := []seed{
		{method: post, target: "/ocsp", body: sha1},
		{method: post, target: "/ocsp", body: sha256},
		{method: post, target: "/ocsp/", body: sha1},
		{method: post, target: "/ocsp/" + b64(sha1), body: sha1}, // 405: POST is for /ocsp only
		{method: post, target: "/ocsp/0", body: sha1},
		{method: post, target: "/ocsp", body: odd},
		{method: get, target: "/ocsp/" + b64(sha1)},
		{method: get, target: "/ocsp/" + b64(sha256)},
		{method: get, target: "/ocsp/" + b64(odd)}, // '+' and '//' as they are
		{method: get, target: "/ocsp/" + url.PathEscape(b64(odd))},
		{method: get, target: "/ocsp/" + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(b64(odd))},
		{method: get, target: "/ocsp/" + strings.ReplaceAll(b64(odd), "+", "%20")},
		{method: get, target: "/ocsp/" + strings.TrimRight(b64(sha1), "=")},
		{method: get, target: "/ocsp/" + b64(sha1) + "?x=1&y"},
		{method: get, target: "/ocsp/" + b64(sha1), inm: etag(sha1)},
		{method: get, target: "/ocsp/" + b64(sha256), inm: etag(sha256)},
		{method: get, target: "/ocsp/" + b64(sha1), inm: `"junk"`},
		{method: head, target: "/ocsp/" + b64(sha1)},
		{method: head, target: "/ocsp/" + b64(sha1), inm: etag(sha1)},
		{method: put, target: "/ocsp/" + b64(sha1), body: sha1},
		{method: get, target: "http://ocsp.test/ocsp/" + b64(sha1)},
		{method: get, target: "/pki/ocsp/" + url.PathEscape(b64(odd)), pki: true},
		{method: post, target: "/pki/ocsp", body: sha1, pki: true},
		{method: get, target: "/ocsp/" + b64(sha1), pki: true},
		{method: get, target: "/pki", pki: true},
		{method: get, target: "/pkix/ocsp/" + b64(sha1), pki: true},
		{method: post, target: "/ocsp", body: []byte("not DER")},
		{method: post, target: "/ocsp"},
		{method: post, target: "/ocsp", body: bytes.Repeat([]byte{0x30}, MaxRequestBytes+1)},
		{method: options, target: "/ocsp", body: bytes.Repeat([]byte{0x30}, MaxRequestBytes+1)},
		{method: get, target: "/ocsp/!!notbase64!!"},
		{method: get, target: "/ocsp/"},
		{method: get, target: "/ocsp"},
		{method: get, target: "/ocsp/MEow%zz"},
		{method: get, target: "/ocsp/MEow%"},
		{method: get, target: "/ocsp//"},
		{method: get, target: "/ocsp/a b"},
		{method: get, target: "/ocsp/" + strings.Repeat("A", 18<<10)},
		{method: get, target: "/crl/issuing-ca.crl"},
		{method: get, target: "/crl/issuing-ca.crl", inm: crlETag},
		{method: head, target: "/crl/issuing-ca.crl"},
		{method: post, target: "/crl/issuing-ca.crl", body: sha1},
		{method: get, target: "/crl/nope.crl"},
		{method: get, target: "/crl/%zz.crl"},
		{method: get, target: "/ca/issuing-ca.cer"},
		{method: get, target: "/ca/root-ca.cer?x"},
		{method: get, target: "/healthz"},
		{method: post, target: "/healthz"},
		{method: get, target: "/"},
		{method: get, target: "/nope"},
		{method: get, target: "*"},
		{method: options, target: "*"},
		{method: get, target: "a:/ocsp/" + b64(sha1)},
		{method: post, target: "A:"},
		{method: get, target: "/ocsp/" + b64(sha1), proto: "HTTP/1.0"},
		{method: get, target: "/ocsp/" + b64(sha1), proto: "HTTP/2.0"},
		{method: post, target: "/ocsp", proto: "HTTP/0.9", body: sha1},
		{method: post, target: "/", proto: "HTTP/0.0", body: []byte("0")},
		{method: get, target: "/ocsp", proto: "HTTP/1.1 x"},
		{method: post, target: "/ocsp", body: sha1, extra: chunkedTE},
		{method: post, target: "/ocsp", body: sha1, extra: expect},
		{method: post, target: "/ocsp", body: sha1, extra: bothLengths},
		{method: get, target: "/crl/issuing-ca.crl", extra: rangeHdr},
		{method: get, target: "/crl/issuing-ca.crl", extra: ims},
		{method: get, target: "/ocsp/" + b64(sha1), extra: closeHdr},
		{method: get, target: "/crl/issuing-ca.crl", extra: gzip},
	}
	for _, s := range seeds {
		if s.proto == "" {
			s.proto = "HTTP/1.1"
		}
		f.Add(s.method, s.target, s.proto, s.body, s.inm, s.extra, s.pki)
	}
	f.Fuzz(func(t *testing.T, m uint8, target, proto string, body []byte, inm string, extra uint8, pki bool) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		hdr := fuzzHeaders[int(extra)%len(fuzzHeaders)]
		if fuzzing() && (len(body) > MaxRequestBytes || len(target) > 4<<10) {
			// The seeds and TestEngines* cover long inputs. While fuzzing
			// they cost too much: net/http waits 500 ms before it closes a
			// connection whose body went over its MaxBytesReader, and
			// minimizing a long input takes most of a short run.
			t.Skip("long input")
		}
		noBreaks := func(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }
		target, proto = noBreaks(target), noBreaks(proto)
		// The If-None-Match value is kept to bytes a header value may hold.
		inm = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, inm)
		raw := buildRequest(method, target, proto, body, inm, hdr)
		what := method + " " + short(target) + " " + short(proto)
		if hdr != "" {
			what += " (" + strconv.Quote(hdr) + ")"
		}
		pair := pairs[pki]
		var dStd, dFast int64
		n := pair.std.requests.Load()
		std := exchange(pair.stdLn, raw, method, func() { dStd = pair.std.requests.Load() - n })
		n = pair.fast.requests.Load()
		fast := exchange(pair.fastLn, raw, method, func() { dFast = pair.fast.requests.Load() - n })
		// Each input on its own: later /healthz bodies stay comparable.
		pair.fast.requests.Store(pair.std.requests.Load())
		if std.err != nil || fast.err != nil {
			t.Fatalf("%s: net/http: %v; fasthttp: %v", what, std.err, fast.err)
		}
		// 505 is net/http's own answer to a major version other than 1.
		if std.status >= 500 && std.status != http.StatusHTTPVersionNotSupported || fast.status >= 500 && fast.status != http.StatusHTTPVersionNotSupported {
			t.Fatalf("%s: HTTP %d (net/http), %d (fasthttp)", what, std.status, fast.status)
		}
		if fast.status == http.StatusBadRequest && std.status != fast.status && fastRefusesTarget(raw) {
			return // known: a target form fasthttp's parser refuses
		}
		if fast.status == http.StatusBadRequest && !serverError(std.status) && strings.HasPrefix(hdr, "Transfer-Encoding") && proto != "HTTP/1.1" {
			return // known: fasthttp refuses Transfer-Encoding but in HTTP/1.1
		}
		if fast.status == http.StatusRequestEntityTooLarge && std.status != fast.status && len(body) > MaxRequestBytes {
			return // known: fasthttp's body limit holds on every route
		}
		if dStd != dFast {
			t.Errorf("%s: net/http counted %d requests, fasthttp %d", what, dStd, dFast)
		}
		if serverError(std.status) || serverError(fast.status) {
			// Which of 400 and 505 a request with several faults gets is
			// the order of each parser's checks.
			if serverError(std.status) != serverError(fast.status) {
				t.Fatalf("%s: HTTP %d (net/http), %d (fasthttp)\nnet/http body %q\nfasthttp body %q", what, std.status, fast.status, trunc(std.body), trunc(fast.body))
			}
			return // the servers' own answers: bodies and headers differ
		}
		if fast.next == 0 && strings.HasPrefix(proto, "HTTP/1.") && proto != "HTTP/1.1" {
			fast.next = std.next // known: fasthttp reads HTTP/1.2 to 1.9 as 1.0, net/http as 1.1
		}
		switch int(extra) % len(fuzzHeaders) {
		case bothLengths:
			if fast.next == 0 {
				fast.next = std.next // known: fasthttp closes the connection (RFC 9112 6.3)
			}
		case expect:
			if std.next == 0 {
				std.next = fast.next // known: net/http closes it when the handler left the body unread
			}
		}
		diffAnswers(t, what, std, fast)
		if std.status == http.StatusOK && std.header.Get("Content-Type") == "application/ocsp-response" && method != http.MethodHead {
			_, err := ocsp.ParseResponse(std.body, nil)
			var re ocsp.ResponseError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("%s: 200 with a body that is not an OCSP response: %v", what, err)
			}
		}
	})
}

// short quotes s for a message, cut to 120 bytes.
func short(s string) string {
	if len(s) > 120 {
		return strconv.Quote(s[:120]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// fuzzing reports whether the test runs a fuzzing engine (-fuzz), not
// only the seed corpus.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// buildRequest is the raw request both engines get: the request line, a
// fixed header block with If-None-Match and hdr, and the body, chunked if
// hdr says so.
func buildRequest(method, target, proto string, body []byte, inm, hdr string) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + target + " " + proto + "\r\nHost: ocsp.test\r\n")
	if inm != "" {
		b.WriteString("If-None-Match: " + inm + "\r\n")
	}
	if hdr != "" {
		b.WriteString(hdr + "\r\n")
	}
	chunkedBody := strings.HasPrefix(hdr, "Transfer-Encoding: chunked")
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut {
		b.WriteString("Content-Type: application/ocsp-request\r\n")
		if !chunkedBody {
			b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if chunkedBody {
		b.WriteString(chunked(body, 7))
	} else {
		b.Write(body)
	}
	return b.Bytes()
}

// serverError reports whether status is one net/http's server gives a
// request it refuses before the handler (which never answers these).
func serverError(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusHTTPVersionNotSupported
}

// fastRefusesTarget reports whether fasthttp's request parser refuses the
// target of raw's request line.
func fastRefusesTarget(raw []byte) bool {
	var h fasthttp.RequestHeader
	return errors.Is(h.Read(bufio.NewReader(bytes.NewReader(raw))), fasthttp.ErrorInvalidURI)
}

// ignoredHeaders differ between two servers answering the same request.
var ignoredHeaders = []string{"Date", "Connection"}

// diffAnswers fails t unless std and fast are the same answer.
func diffAnswers(t *testing.T, what string, std, fast wireAnswer) {
	t.Helper()
	if std.status != fast.status {
		t.Fatalf("%s: HTTP %d (net/http), %d (fasthttp)\nnet/http body %q\nfasthttp body %q", what, std.status, fast.status, trunc(std.body), trunc(fast.body))
	}
	if !bytes.Equal(std.body, fast.body) {
		t.Errorf("%s: bodies differ\nnet/http %q\nfasthttp %q", what, trunc(std.body), trunc(fast.body))
	}
	if len(std.after) > 0 || len(fast.after) > 0 {
		t.Errorf("%s: bytes after the answer: net/http %q, fasthttp %q", what, trunc(std.after), trunc(fast.after))
	}
	if std.next != fast.next {
		t.Errorf("%s: then GET /nope on the same connection: HTTP %d (net/http), %d (fasthttp) (0: closed)", what, std.next, fast.next)
	}
	keys := map[string]bool{}
	for k := range std.header {
		keys[k] = true
	}
	for k := range fast.header {
		keys[k] = true
	}
	for k := range keys {
		if slices.Contains(ignoredHeaders, k) {
			continue
		}
		if a, b := std.header[k], fast.header[k]; !slices.Equal(a, b) {
			t.Errorf("%s: header %s: net/http %q, fasthttp %q", what, k, a, b)
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "..."...)
	}
	return b
}

// oddRequest is an OCSP request of the rig's issuer whose base64 holds
// "//" and "+" (for an unknown serial: the SHA-256 of a counter, so that
// every byte of it varies).
func oddRequest(tb testing.TB, rig *engineRig) []byte {
	fake := *rig.leaf
	for i := 0; i < 1<<16; i++ {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		fake.SerialNumber = new(big.Int).SetBytes(sum[:15])
		der := ocspReq(tb, &fake, rig.issuer, crypto.SHA1)
		if s := base64.StdEncoding.EncodeToString(der); strings.Contains(s, "//") && strings.Contains(s, "+") {
			return der
		}
	}
	tb.Fatal("no request whose base64 holds // and +")
	return nil
}

// FuzzOCSPHandlerFast holds ServeFastHTTP, called in process as fasthttp's
// server calls it, to FuzzOCSPHandler's invariants on the same inputs (its
// seed corpus is read from testdata/fuzz/FuzzOCSPHandler): arbitrary bytes
// as a POST body and as a GET path never get a 5xx, and a 200 is an OCSP
// response. It also requires ServeHTTP's answer (status, body and the
// cache headers): the handler-level twin of FuzzServingPaths. A POST body
// over MaxRequestBytes is left out: fasthttp's server refuses it before
// the handler.
func FuzzOCSPHandlerFast(f *testing.F) {
	rig := newEngineRig(f, nil)
	h := rig.handler("", nil)
	f.Add(rig.req(f, crypto.SHA1))
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	for _, b := range readCorpus(f, filepath.Join("testdata", "fuzz", "FuzzOCSPHandler")) {
		f.Add(b)
	}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tc := range []struct{ method, target string }{
			{http.MethodPost, "/ocsp"},
			{http.MethodGet, "/ocsp/" + base64.StdEncoding.EncodeToString(data)},
		} {
			var req fasthttp.Request
			req.Header.SetMethod(tc.method)
			req.SetRequestURI(tc.target)
			req.Header.SetHost("ocsp.test")
			if tc.method == http.MethodPost {
				if len(data) > MaxRequestBytes {
					continue // fasthttp's server refuses it before the handler (413): FuzzServingPaths
				}
				req.SetBody(data)
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, remote, nil)
			h.ServeFastHTTP(&ctx)
			status, body := ctx.Response.StatusCode(), ctx.Response.Body()
			switch status {
			case http.StatusOK:
				_, err := ocsp.ParseResponse(body, nil)
				var re ocsp.ResponseError
				if err != nil && !errors.As(err, &re) {
					t.Fatalf("%s: body is not an OCSP response: %v", tc.method, err)
				}
			case http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong:
			default:
				t.Fatalf("%s: HTTP %d", tc.method, status)
			}

			r, err := http.NewRequest(tc.method, "http://ocsp.test"+tc.target, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			r.RequestURI, r.RemoteAddr = tc.target, remote.String()
			if tc.method != http.MethodPost {
				r.Body, r.ContentLength = http.NoBody, 0
			}
			w := newRecorder()
			h.ServeHTTP(w, r)
			if w.status != status || !bytes.Equal(w.body.Bytes(), body) {
				t.Fatalf("%s: ServeHTTP HTTP %d %x, ServeFastHTTP HTTP %d %x", tc.method, w.status, trunc(w.body.Bytes()), status, trunc(body))
			}
			for _, k := range cacheHeaders {
				if a, b := w.hd.Get(k), string(ctx.Response.Header.Peek(k)); a != b {
					t.Errorf("%s: %s: ServeHTTP %q, ServeFastHTTP %q", tc.method, k, a, b)
				}
			}
		}
	})
}

// recorder is the least ResponseWriter that records an answer.
type recorder struct {
	hd     http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder            { return &recorder{hd: http.Header{}} }
func (w *recorder) Header() http.Header { return w.hd }
func (w *recorder) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// readCorpus reads the []byte inputs of a fuzz corpus directory ("go test
// fuzz v1" files of one []byte value).
func readCorpus(tb testing.TB, dir string) [][]byte {
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
			tb.Fatalf("%s: not a one-[]byte corpus file", e.Name())
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, []byte(s))
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no corpus", dir)
	}
	return out
}
