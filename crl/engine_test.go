package crl

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The tests in this file run the same requests over real loopback
// connections against both engines (EngineFast, EngineStd) and hold them to
// the same answers: HEAD, chunked and 100-continue POSTs, pipelining, the
// header limit, timeouts, graceful shutdown, the access log and the request
// counter. FuzzServingPaths (engine_fuzz_test.go) compares the two serving
// paths on arbitrary requests.

// engineRig is one lab, store and responder behind any number of handlers:
// handlers made from one rig answer with the same signed bytes, so the two
// engines can be compared byte for byte.
type engineRig struct {
	fx     *fixture
	resp   *Responder
	crls   []*CRL
	issuer *x509.Certificate // issuing-ca
	leaf   *x509.Certificate // cmg-server, recorded (good)
}

// newEngineRig makes the rig; wrap, if not nil, wraps the lab's store (the
// responder and updater use the wrapped one).
func newEngineRig(t testing.TB, wrap func(Store) Store) *engineRig {
	t.Helper()
	spec := labSpecNoLeaves // newFixture writes BaseURL into the spec: a copy
	fx := newFixture(t, "", NewMemStore(), &spec)
	if wrap != nil {
		fx.store = wrap(fx.store)
	}
	resp, err := NewResponder(ResponderConfig{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
	if err != nil {
		t.Fatal(err)
	}
	u := &Updater{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers, Responder: resp}
	crls, err := u.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &engineRig{fx: fx, resp: resp, crls: crls, issuer: fx.lab.Authorities["issuing-ca"].Cert, leaf: fx.cert(t, "cmg-server")}
}

// handler returns a handler of the rig under base, logging to log (nil:
// no access log), serving the rig's CRLs.
func (r *engineRig) handler(base string, log io.Writer) *Handler {
	h := NewHandler(HandlerConfig{Responder: r.resp, Store: r.fx.store, Clock: r.fx.clk, Issuers: r.fx.issuers,
		BasePath: base, AccessLog: log})
	for _, c := range r.crls {
		h.SetCRL(c)
	}
	return h
}

// req is the DER OCSP request for the rig's leaf with hash h.
func (r *engineRig) req(t testing.TB, h crypto.Hash) []byte { return ocspReq(t, r.leaf, r.issuer, h) }

// unknownReq is an OCSP request of the rig's issuer for a serial the store
// does not hold.
func (r *engineRig) unknownReq(t testing.TB, serial int64) []byte {
	fake := *r.leaf
	fake.SerialNumber = big.NewInt(serial)
	return ocspReq(t, &fake, r.issuer, crypto.SHA1)
}

func (r *engineRig) crl(name string) *CRL {
	for _, c := range r.crls {
		if c.Issuer == name {
			return c
		}
	}
	panic("no CRL " + name)
}

// engineServer is a crl.Server on a loopback port.
type engineServer struct {
	addr string
	srv  *Server
	h    *Handler
	done chan error
	once sync.Once
}

// serve runs h on a loopback port with cfg and engine eng until stop or the
// end of the test; stopping checks that Shutdown and Serve return nil and
// then closes h (flushing its access log).
func serve(t testing.TB, eng Engine, h *Handler, cfg ServerConfig) *engineServer {
	t.Helper()
	cfg.Engine = eng
	srv, err := NewServer(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &engineServer{addr: ln.Addr().String(), srv: srv, h: h, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *engineServer) stop(t testing.TB) {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
		s.h.Close()
	})
}

// dial opens a raw connection to s that gives up after 10 s.
func (s *engineServer) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes raw on a new connection and reads one answer to method.
func (s *engineServer) roundTrip(t testing.TB, raw, method string) (*http.Response, []byte) {
	t.Helper()
	c := s.dial(t)
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return readResp(t, bufio.NewReader(c), method)
}

// readResp reads one response to a request with method from br, body and all.
func readResp(t testing.TB, br *bufio.Reader, method string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the answer to %s: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of the answer to %s: %v", method, err)
	}
	return resp, b
}

// getTarget is the RFC 5019 GET target of der, percent-escaped as Windows
// sends it.
func getTarget(der []byte) string {
	return "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(der))
}

func rawGet(method, target string, hdr ...string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: ocsp.test\r\n" + strings.Join(append(hdr, ""), "\r\n") + "\r\n"
}

func rawPost(target string, body []byte, hdr ...string) string {
	return rawGet(http.MethodPost, target, append([]string{"Content-Type: application/ocsp-request", "Content-Length: " + strconv.Itoa(len(body))}, hdr...)...) + string(body)
}

// chunked encodes body as chunks of at most n bytes, with the last chunk.
func chunked(body []byte, n int) string {
	var b strings.Builder
	for len(body) > 0 {
		k := min(n, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
		body = body[k:]
	}
	return b.String() + "0\r\n\r\n"
}

// checkOCSP fails unless resp is a 200 with a signed OCSP response for
// serial with status want.
func (r *engineRig) checkOCSP(t testing.TB, what string, resp *http.Response, body []byte, serial *big.Int, want int) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Errorf("%s: HTTP %d %q, want 200 application/ocsp-response", what, resp.StatusCode, resp.Header.Get("Content-Type"))
		return
	}
	or, err := ocsp.ParseResponse(body, r.issuer)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if or.SerialNumber.Cmp(serial) != 0 || or.Status != want {
		t.Errorf("%s: serial %x status %d, want %x %d", what, or.SerialNumber, or.Status, serial, want)
	}
}

// cacheHeaders are the headers an OCSP or CRL answer is cached by.
var cacheHeaders = []string{"Content-Type", "Cache-Control", "Etag", "Last-Modified", "Expires"}

// TestEnginesHEAD: HEAD on an RFC 5019 GET URL (and on a CRL) answers 200
// with the headers and Content-Length of the GET and no body: a GET sent
// behind it on the same connection is read as the next answer.
func TestEnginesHEAD(t *testing.T) {
	rig := newEngineRig(t, nil)
	ocspGet := getTarget(rig.req(t, crypto.SHA1))
	forEngines(t, func(t *testing.T, eng Engine) {
		s := serve(t, eng, rig.handler("", nil), ServerConfig{})
		for _, target := range []string{ocspGet, "/crl/issuing-ca.crl"} {
			c := s.dial(t)
			io.WriteString(c, rawGet(http.MethodHead, target)+rawGet(http.MethodGet, target))
			br := bufio.NewReader(c)
			head, hb := readResp(t, br, http.MethodHead)
			get, gb := readResp(t, br, http.MethodGet)
			if head.StatusCode != http.StatusOK || len(hb) != 0 || get.StatusCode != http.StatusOK {
				t.Fatalf("%s: HEAD %d with %d body bytes, then GET %d", target, head.StatusCode, len(hb), get.StatusCode)
			}
			if target == ocspGet {
				rig.checkOCSP(t, "GET after HEAD", get, gb, rig.leaf.SerialNumber, ocsp.Good)
			} else if !bytes.Equal(gb, rig.crl("issuing-ca").DER) {
				t.Errorf("%s: GET after HEAD: not the CRL", target)
			}
			if cl := head.Header.Get("Content-Length"); cl != strconv.Itoa(len(gb)) || head.ContentLength != int64(len(gb)) {
				t.Errorf("%s: HEAD Content-Length %q, the GET body has %d bytes", target, cl, len(gb))
			}
			for _, k := range cacheHeaders {
				if head.Header.Get(k) != get.Header.Get(k) || get.Header.Get(k) == "" {
					t.Errorf("%s: HEAD %s %q, GET %q", target, k, head.Header.Get(k), get.Header.Get(k))
				}
			}
		}
	})
}

// TestEnginesPostFraming: an OCSP POST with a chunked body, and one sent
// after a 100 Continue, is answered; a chunked body over MaxRequestBytes
// gets 413.
func TestEnginesPostFraming(t *testing.T) {
	rig := newEngineRig(t, nil)
	der := rig.req(t, crypto.SHA256)
	forEngines(t, func(t *testing.T, eng Engine) {
		s := serve(t, eng, rig.handler("", nil), ServerConfig{})

		resp, body := s.roundTrip(t, rawGet(http.MethodPost, "/ocsp", "Content-Type: application/ocsp-request", "Transfer-Encoding: chunked")+chunked(der, 7), http.MethodPost)
		rig.checkOCSP(t, "chunked", resp, body, rig.leaf.SerialNumber, ocsp.Good)

		// Expect: 100-continue: the body is sent only after the interim answer.
		c := s.dial(t)
		io.WriteString(c, rawGet(http.MethodPost, "/ocsp", "Content-Type: application/ocsp-request", "Content-Length: "+strconv.Itoa(len(der)), "Expect: 100-continue"))
		br := bufio.NewReader(c)
		interim, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(interim, "HTTP/1.1 100 ") {
			t.Fatalf("Expect: 100-continue: first line %q, %v", interim, err)
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l == "\r\n" {
				break
			}
		}
		c.Write(der)
		resp, body = readResp(t, br, http.MethodPost)
		rig.checkOCSP(t, "100-continue", resp, body, rig.leaf.SerialNumber, ocsp.Good)

		huge := bytes.Repeat([]byte{0x30}, MaxRequestBytes+1)
		resp, body = s.roundTrip(t, rawGet(http.MethodPost, "/ocsp", "Transfer-Encoding: chunked")+chunked(huge, 1000), http.MethodPost)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != tooLarge+"\n" {
			t.Errorf("chunked body over MaxRequestBytes: HTTP %d %q, want 413 %q", resp.StatusCode, body, tooLarge+"\n")
		}
	})
}

// TestEnginesPipelining: requests written at once on one keep-alive
// connection are answered in order.
func TestEnginesPipelining(t *testing.T) {
	rig := newEngineRig(t, nil)
	sha1 := rig.req(t, crypto.SHA1)
	unknown := rig.unknownReq(t, 0x5eed)
	forEngines(t, func(t *testing.T, eng Engine) {
		s := serve(t, eng, rig.handler("", nil), ServerConfig{})
		c := s.dial(t)
		io.WriteString(c, rawGet(http.MethodGet, getTarget(sha1))+rawPost("/ocsp", unknown)+rawGet(http.MethodGet, "/crl/issuing-ca.crl")+
			rawGet(http.MethodGet, "/nope")+rawPost("/ocsp", sha1))
		br := bufio.NewReader(c)
		resp, body := readResp(t, br, http.MethodGet)
		rig.checkOCSP(t, "1st (GET)", resp, body, rig.leaf.SerialNumber, ocsp.Good)
		resp, body = readResp(t, br, http.MethodPost)
		rig.checkOCSP(t, "2nd (POST, unknown serial)", resp, body, big.NewInt(0x5eed), ocsp.Unknown)
		resp, body = readResp(t, br, http.MethodGet)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, rig.crl("issuing-ca").DER) {
			t.Errorf("3rd (CRL): HTTP %d, %d bytes", resp.StatusCode, len(body))
		}
		if resp, _ = readResp(t, br, http.MethodGet); resp.StatusCode != http.StatusNotFound {
			t.Errorf("4th (unknown path): HTTP %d", resp.StatusCode)
		}
		resp, body = readResp(t, br, http.MethodPost)
		rig.checkOCSP(t, "5th (POST)", resp, body, rig.leaf.SerialNumber, ocsp.Good)
	})
}

// TestEnginesHeaderLimit: a request whose head (request line and headers)
// is over the limit gets 431 from both engines, by a long header or a long
// GET path; one within it is answered. The limit is the same byte on both:
// net/http refuses a head over MaxHeaderBytes plus its 4096 bytes of bufio
// slop, fasthttp one that does not fit its read buffer, which is as large.
func TestEnginesHeaderLimit(t *testing.T) {
	rig := newEngineRig(t, nil)
	const limit = MaxHeaderBytes + 4096
	// head is a GET /healthz whose head is n bytes long, "\r\n\r\n" included.
	head := func(n int) string {
		short := rawGet(http.MethodGet, "/healthz", "X-Pad: ")
		return rawGet(http.MethodGet, "/healthz", "X-Pad: "+strings.Repeat("a", n-len(short)))
	}
	if len(head(limit)) != limit {
		t.Fatalf("head(%d) is %d bytes", limit, len(head(limit)))
	}
	forEngines(t, func(t *testing.T, eng Engine) {
		s := serve(t, eng, rig.handler("", nil), ServerConfig{})
		for _, tc := range []struct {
			name string
			raw  string
			want int
		}{
			{"head at the limit", head(limit), http.StatusOK},
			{"head one byte over the limit", head(limit + 1), http.StatusRequestHeaderFieldsTooLarge},
			{"8 KiB header", rawGet(http.MethodGet, "/healthz", "X-Pad: "+strings.Repeat("a", 8<<10)), http.StatusOK},
			{"18 KiB header", rawGet(http.MethodGet, "/healthz", "X-Pad: "+strings.Repeat("a", 18<<10)), http.StatusOK},
			{"18 KiB GET path", rawGet(http.MethodGet, "/ocsp/"+strings.Repeat("A", 18<<10)), http.StatusOK}, // malformedRequest
			{"24 KiB header", rawGet(http.MethodGet, "/healthz", "X-Pad: "+strings.Repeat("a", 24<<10)), http.StatusRequestHeaderFieldsTooLarge},
			{"64 KiB of headers", rawGet(http.MethodGet, "/healthz", repeated(64, "X-Pad: "+strings.Repeat("a", 1000))...), http.StatusRequestHeaderFieldsTooLarge},
			{"40 KiB GET path", rawGet(http.MethodGet, "/ocsp/"+strings.Repeat("A", 40<<10)), http.StatusRequestHeaderFieldsTooLarge},
		} {
			resp, _ := s.roundTrip(t, tc.raw, http.MethodGet)
			if resp.StatusCode != tc.want {
				t.Errorf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.want)
			}
		}
	})
}

func repeated(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestEnginesTimeouts: with ReadTimeout and IdleTimeout of 300 ms, a client
// that sends half a request line, or a POST without its whole body, is
// disconnected well within 3 s, and an idle keep-alive connection is
// closed after IdleTimeout (not before it: a second request sent at once
// is answered on it).
//
// What the client reads before the connection closes differs, and is
// only required to be no 5xx and no signed response: fasthttp answers 408
// (fastError) to both; net/http answers 400 to half a request line (it
// reads the cut line as a whole one) and, to half a body, the handler's
// malformedRequest (its read of the body fails), which it logs and counts.
// The idle connection is closed without a word by both.
func TestEnginesTimeouts(t *testing.T) {
	rig := newEngineRig(t, nil)
	der := rig.req(t, crypto.SHA1)
	const timeout = 300 * time.Millisecond
	forEngines(t, func(t *testing.T, eng Engine) {
		s := serve(t, eng, rig.handler("", nil), ServerConfig{ReadTimeout: timeout, IdleTimeout: timeout})
		// waitClosed reads c to its end and returns how long that took and
		// what the server sent.
		waitClosed := func(c net.Conn, start time.Time) (time.Duration, string) {
			b, err := io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("still connected after 10 s (got %q)", b)
			}
			return time.Since(start), string(b)
		}
		for name, raw := range map[string]string{
			"half a request line": "GET /ocsp/MEow",
			"half a body":         rawPost("/ocsp", der)[:len(rawPost("/ocsp", der))-len(der)/2],
		} {
			c := s.dial(t)
			start := time.Now()
			io.WriteString(c, raw)
			d, got := waitClosed(c, start)
			if d > 3*time.Second {
				t.Errorf("%s: disconnected after %s, want < 3s", name, d)
			}
			if got != "" {
				resp, body := readResp(t, bufio.NewReader(strings.NewReader(got)), http.MethodPost)
				var re ocsp.ResponseError
				_, err := ocsp.ParseResponse(body, nil)
				if resp.StatusCode >= 500 || resp.StatusCode < 400 && !(errors.As(err, &re) && re.Status == ocsp.Malformed) {
					t.Errorf("%s: answered %q before closing, want nothing, a 4xx or malformedRequest", name, got)
				}
			}
			t.Logf("%s: disconnected after %s, having sent %q", name, d.Round(time.Millisecond), firstLine(got))
		}

		c := s.dial(t)
		br := bufio.NewReader(c)
		io.WriteString(c, rawGet(http.MethodGet, getTarget(der)))
		resp, body := readResp(t, br, http.MethodGet)
		rig.checkOCSP(t, "first request", resp, body, rig.leaf.SerialNumber, ocsp.Good)
		io.WriteString(c, rawPost("/ocsp", der))
		resp, body = readResp(t, br, http.MethodPost)
		rig.checkOCSP(t, "second request at once", resp, body, rig.leaf.SerialNumber, ocsp.Good)
		start := time.Now()
		if d, got := waitClosed(c, start); d < timeout/2 || d > 3*time.Second || got != "" {
			t.Errorf("idle keep-alive connection closed after %s with %q, want after IdleTimeout %s and < 3s, nothing sent", d, got, timeout)
		} else {
			t.Logf("idle keep-alive connection closed after %s", d.Round(time.Millisecond))
		}
	})
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// blockingStore holds Get of one serial until release is closed, or the
// caller's context ends: an OCSP request for that serial is in flight as
// long as the test wants.
type blockingStore struct {
	Store
	serial  *big.Int
	entered chan struct{} // closed when Get of serial is called
	once    sync.Once
	release chan struct{}
}

func (s *blockingStore) Get(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	if serial.Cmp(s.serial) == 0 {
		s.once.Do(func() { close(s.entered) })
		select {
		case <-s.release:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
	return s.Store.Get(ctx, issuer, serial)
}

// TestEnginesGracefulShutdown: Shutdown with a keep-alive connection idle
// and an OCSP request in flight (the store's Get blocked on a cache miss)
// closes the idle connection, refuses new connections, waits for the
// request, whose client receives the whole signed response, and then
// returns; Serve returns nil.
func TestEnginesGracefulShutdown(t *testing.T) {
	forEngines(t, func(t *testing.T, eng Engine) {
		var bs *blockingStore
		rig := newEngineRig(t, func(s Store) Store {
			bs = &blockingStore{Store: s, serial: big.NewInt(0xb10c), entered: make(chan struct{}), release: make(chan struct{})}
			return bs
		})
		h := rig.handler("", nil)
		srv, err := NewServer(h, ServerConfig{Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		s := &engineServer{addr: ln.Addr().String()}

		idle := s.dial(t)
		io.WriteString(idle, rawGet(http.MethodGet, "/healthz"))
		idleR := bufio.NewReader(idle)
		if resp, _ := readResp(t, idleR, http.MethodGet); resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: HTTP %d", resp.StatusCode)
		}

		busy := s.dial(t)
		io.WriteString(busy, rawPost("/ocsp", rig.unknownReq(t, 0xb10c)))
		select {
		case <-bs.entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the request never reached the store")
		}

		shut := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			shut <- srv.Shutdown(ctx)
		}()

		// The idle connection is closed.
		if b, err := io.ReadAll(idleR); len(b) != 0 || err != nil && !isReset(err) {
			t.Errorf("idle connection: read %q, %v; want it closed", b, err)
		}
		// New connections are refused.
		refused := false
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			c, err := net.DialTimeout("tcp", s.addr, time.Second)
			if err != nil {
				refused = true
				break
			}
			c.Close()
		}
		if !refused {
			t.Error("new connections still accepted 3 s into Shutdown")
		}
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned %v with a request in flight", err)
		default:
		}

		close(bs.release)
		resp, body := readResp(t, bufio.NewReader(busy), http.MethodPost)
		rig.checkOCSP(t, "request in flight", resp, body, big.NewInt(0xb10c), ocsp.Unknown)
		select {
		case err := <-shut:
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Shutdown did not return after the last request")
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after Shutdown")
		}
	})
}

func isReset(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset")
}

// TestEnginesShutdownBeforeServe: Shutdown before Serve makes Serve return
// nil at once, with its listener closed.
func TestEnginesShutdownBeforeServe(t *testing.T) {
	rig := newEngineRig(t, nil)
	forEngines(t, func(t *testing.T, eng Engine) {
		h := rig.handler("", nil)
		defer h.Close()
		srv, err := NewServer(h, ServerConfig{Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown before Serve: %v", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve after Shutdown: %v", err)
			}
		case <-time.After(3 * time.Second):
			ln.Close()
			t.Fatal("Serve after Shutdown did not return")
		}
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Error("the listener is still open after Serve returned")
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the access log's flusher.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// logLine is an access-log line: TIME REMOTE "METHOD URI" STATUS BYTES DURATIONms.
var logLine = regexp.MustCompile(`^(\S+) (\S+):(\d+) (".*") (\d+) (\d+) (\d+\.\d{3})ms$`)

// TestEnginesAccessLogAndRequestCount: the same requests give the same
// access-log lines on both engines, but for the time, the duration and the
// client's port, and the same /healthz request count. A request the server
// refuses before the handler (a target net/http cannot parse: 400; a head
// over the limit: 431) is neither logged nor counted by either engine; an
// oversized POST (413) is a handler answer on both.
func TestEnginesAccessLogAndRequestCount(t *testing.T) {
	rig := newEngineRig(t, nil)
	sha1 := rig.req(t, crypto.SHA1)
	etag := func() string {
		resp, err := rig.resp.Respond(context.Background(), sha1)
		if err != nil {
			t.Fatal(err)
		}
		return resp.ETag
	}()
	type request struct {
		raw, method string
		status      int
		logged      bool
	}
	requests := []request{
		{rawGet(http.MethodGet, getTarget(sha1)), http.MethodGet, 200, true},
		{rawPost("/ocsp", rig.req(t, crypto.SHA256)), http.MethodPost, 200, true},
		{rawGet(http.MethodGet, "/ocsp/!!notbase64!!"), http.MethodGet, 200, true}, // malformedRequest
		{rawGet(http.MethodGet, getTarget(sha1), "If-None-Match: "+etag), http.MethodGet, 304, true},
		{rawGet(http.MethodHead, getTarget(sha1)), http.MethodHead, 200, true},
		{rawGet(http.MethodGet, "/crl/issuing-ca.crl"), http.MethodGet, 200, true},
		{rawGet(http.MethodGet, "/ca/issuing-ca.cer"), http.MethodGet, 200, true},
		{rawGet(http.MethodGet, "/nope"), http.MethodGet, 404, true},
		{rawGet(http.MethodGet, "/ocsp"), http.MethodGet, 405, true},
		{rawPost("/ocsp", bytes.Repeat([]byte{0x30}, MaxRequestBytes+1)), http.MethodPost, 413, true},
		{rawGet(http.MethodGet, "/ocsp/MEow%zz"), http.MethodGet, 400, false},
		{rawGet(http.MethodGet, "/crl/%zz.crl"), http.MethodGet, 400, false},
		{rawGet(http.MethodGet, "/healthz", "X-Pad: "+strings.Repeat("a", 32<<10)), http.MethodGet, 431, false},
		// A client-chosen method is cut in the log, as the target is.
		{rawGet(strings.Repeat("M", 3000), "/ocsp/"+strings.Repeat("A", 3000)), strings.Repeat("M", 3000), 405, true},
	}
	logs := map[Engine][]string{}
	counts := map[Engine]string{}
	forEngines(t, func(t *testing.T, eng Engine) {
		var buf syncBuffer
		s := serve(t, eng, rig.handler("", &buf), ServerConfig{})
		for _, r := range requests {
			if resp, _ := s.roundTrip(t, r.raw, r.method); resp.StatusCode != r.status {
				t.Errorf("%s: HTTP %d, want %d", firstLine(r.raw), resp.StatusCode, r.status)
			}
		}
		resp, body := s.roundTrip(t, rawGet(http.MethodGet, "/healthz"), http.MethodGet)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: HTTP %d", resp.StatusCode)
		}
		counts[eng] = regexp.MustCompile(`"requests":\d+`).FindString(string(body))
		s.stop(t) // flushes the log
		for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			m := logLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("access-log line %q is not TIME REMOTE \"METHOD URI\" STATUS BYTES DURATIONms", l)
				continue
			}
			if m[2] != "127.0.0.1" {
				t.Errorf("access-log line %q: remote %q", l, m[2])
			}
			logs[eng] = append(logs[eng], strings.Join([]string{"TIME", m[2] + ":PORT", m[4], m[5], m[6], "DURms"}, " "))
			if len(l) > 400 {
				t.Errorf("access-log line of %d bytes: the method and target are not cut: %.120s...", len(l), l)
			}
		}
	})
	want := 0
	for _, r := range requests {
		if r.logged {
			want++
		}
	}
	if got := fmt.Sprintf(`"requests":%d`, want); counts[EngineStd] != got || counts[EngineFast] != got {
		t.Errorf("healthz: net/http %s, fasthttp %s; want %s", counts[EngineStd], counts[EngineFast], got)
	}
	std, fast := logs[EngineStd], logs[EngineFast]
	if len(std) != want+1 { // and the healthz request
		t.Errorf("net/http logged %d lines, want %d:\n%s", len(std), want+1, strings.Join(std, "\n"))
	}
	for i := range max(len(std), len(fast)) {
		var a, b string
		if i < len(std) {
			a = std[i]
		}
		if i < len(fast) {
			b = fast[i]
		}
		if a != b {
			t.Errorf("access-log line %d:\nnet/http %s\nfasthttp %s", i+1, a, b)
		}
	}
}

// TestEnginesErrorLogQuiet: requests a server refuses before the handler
// (junk, an oversized header line) write nothing to its error log, on
// either engine (fasthttp logs each by itself; a client could otherwise
// write to stderr as much as it sends), while the refusal still reaches the
// client.
func TestEnginesErrorLogQuiet(t *testing.T) {
	rig := newEngineRig(t, nil)
	forEngines(t, func(t *testing.T, eng Engine) {
		var errs syncBuffer
		s := serve(t, eng, rig.handler("", nil), ServerConfig{ErrorLog: &errs})
		for _, raw := range []string{
			"GARBAGE\r\n\r\n",
			"GET /ocsp HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("B", 19000) + "\r\n\r\n",
			"GET /x\x1b[31mRED HTTP/1.1\r\nHost: x\r\n\r\n",
		} {
			c := s.dial(t)
			if _, err := c.Write([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if !strings.HasPrefix(line, "HTTP/1.1 400") {
				t.Errorf("%q: answered %q, want 400", firstLine(raw), line)
			}
		}
		s.stop(t)
		if errs.String() != "" {
			t.Errorf("error log:\n%.600s", errs.String())
		}
	})
}
