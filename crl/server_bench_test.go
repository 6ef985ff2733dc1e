package crl

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/valyala/fasthttp"
)

// benchWriter is the least a ResponseWriter can be: a header map cleared
// per request (net/http makes a fresh one) and a byte count.
type benchWriter struct {
	hd     http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header         { return w.hd }
func (w *benchWriter) WriteHeader(s int)           { w.status = s }
func (w *benchWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// benchHandler is the revocation handler of a real lab with its responses
// pre-signed and the access log on (to io.Discard), as cmgpki serve runs it,
// and the DER of an OCSP request for a good certificate.
func benchHandler(b *testing.B) (*Handler, []byte) {
	fx := newFixture(b, "", NewMemStore(), &labSpecNoLeaves)
	resp, err := NewResponder(ResponderConfig{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(HandlerConfig{Responder: resp, Store: fx.store, Clock: fx.clk, Issuers: fx.issuers, AccessLog: io.Discard})
	b.Cleanup(h.Close)
	u := &Updater{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers, Handler: h, Responder: resp}
	if _, err := u.RunOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	return h, ocspReq(b, fx.cert(b, "cmg-server"), fx.lab.Authorities["issuing-ca"].Cert, crypto.SHA1)
}

func benchServe(b *testing.B, h *Handler, r *http.Request, reset func()) {
	w := &benchWriter{hd: http.Header{}}
	serve := func() {
		clear(w.hd)
		w.status, w.n = 0, 0
		reset()
		h.ServeHTTP(w, r)
	}
	serve()
	if w.status != 0 && w.status != http.StatusOK || w.n == 0 || w.hd.Get("Content-Type") != "application/ocsp-response" || w.hd.Get("Etag") == "" {
		b.Fatalf("answer: HTTP %d, %d bytes, header %v", w.status, w.n, w.hd)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

// BenchmarkHandlerOCSPGet serves a repeated RFC 5019 GET (percent-escaped
// base64, as Windows sends it) from the pre-signed cache, access log on.
func BenchmarkHandlerOCSPGet(b *testing.B) {
	h, der := benchHandler(b)
	r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), nil)
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr, r.RequestURI = "127.0.0.1:50000", r.URL.RequestURI() // as net/http's server sets them
	benchServe(b, h, r, func() {})
}

// BenchmarkHandlerOCSPPost serves a repeated POST from the pre-signed cache,
// access log on.
func BenchmarkHandlerOCSPPost(b *testing.B) {
	h, der := benchHandler(b)
	body := bytes.NewReader(der)
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/ocsp", body)
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr, r.RequestURI = "127.0.0.1:50000", "/ocsp"
	r.Header.Set("Content-Type", "application/ocsp-request")
	benchServe(b, h, r, func() { body.Reset(der); r.Body = io.NopCloser(body) })
}

// benchServeFast is benchServe for ServeFastHTTP: one RequestCtx reused as
// fasthttp's server reuses it, the response reset per request.
func benchServeFast(b *testing.B, h *Handler, req *fasthttp.Request) {
	var ctx fasthttp.RequestCtx
	ctx.Init(req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, nil)
	serve := func() {
		ctx.Response.Reset()
		h.ServeFastHTTP(&ctx)
	}
	serve()
	if ctx.Response.StatusCode() != http.StatusOK || len(ctx.Response.Body()) == 0 ||
		string(ctx.Response.Header.ContentType()) != "application/ocsp-response" || len(ctx.Response.Header.Peek("Etag")) == 0 {
		b.Fatalf("answer: %s", ctx.Response.String())
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

// BenchmarkHandlerFastOCSPGet is BenchmarkHandlerOCSPGet on the fasthttp
// serving path (the default of cmgpki serve).
func BenchmarkHandlerFastOCSPGet(b *testing.B) {
	h, der := benchHandler(b)
	var req fasthttp.Request
	req.Header.SetMethod(http.MethodGet)
	req.SetRequestURI("/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(der)))
	benchServeFast(b, h, &req)
}

// BenchmarkHandlerFastOCSPPost is BenchmarkHandlerOCSPPost on the fasthttp
// serving path.
func BenchmarkHandlerFastOCSPPost(b *testing.B) {
	h, der := benchHandler(b)
	var req fasthttp.Request
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI("/ocsp")
	req.Header.SetContentType("application/ocsp-request")
	req.SetBody(der)
	benchServeFast(b, h, &req)
}
