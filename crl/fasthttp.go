package crl

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/cmgpki/cmgpki/internal/layout"
)

// ServeFastHTTP is the fasthttp serving path of the handler (EngineFast).
// The two hot routes, OCSP over POST and RFC 5019 GET, are answered here
// with the same bytes, headers and status as ServeHTTP; every other request
// (CRLs, CA certificates, /healthz, wrong methods, unknown paths, absolute
// request targets, oversized or undecodable GET paths) goes to ServeHTTP
// through fasthttpadaptor, so it has net/http's semantics by construction
// (ServeContent's conditional and range requests, 404, 405 with Allow).
// What net/http's server answers before the handler (OPTIONS *, a major
// version other than 1, a target url.ParseRequestURI refuses) is answered
// here as it does, unlogged and uncounted. FuzzServingPaths checks that
// both paths give the same answers.
func (h *Handler) ServeFastHTTP(ctx *fasthttp.RequestCtx) {
	if !ctx.Request.Header.IsHTTP11() {
		// fasthttp's parser takes any HTTP/d.d; net/http's server refuses a
		// major version other than 1 before the handler.
		if p := ctx.Request.Header.Protocol(); len(p) != len("HTTP/1.0") || p[5] != '1' {
			ctx.Error("505 HTTP Version Not Supported: unsupported protocol version", http.StatusHTTPVersionNotSupported)
			ctx.SetConnectionClose()
			return
		}
	}
	uri := ctx.Request.Header.RequestURI() // as sent: never cleaned or unescaped
	if len(uri) == 0 || uri[0] != '/' {
		if string(uri) == "*" {
			// OPTIONS * (fasthttp's parser admits "*" for OPTIONS alone):
			// net/http's server answers it itself, 200 with no body, and the
			// handler never sees it.
			return
		}
		h.slowFast(ctx)
		return
	}
	p := uri
	if i := bytes.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	p, ok := trimBase(p, h.basePath)
	if !ok {
		h.slowFast(ctx)
		return
	}
	const prefix = layout.OCSPPath + "/"
	switch {
	case ctx.IsPost() && (string(p) == layout.OCSPPath || string(p) == prefix):
		// fasthttp has read the body, within Server.MaxRequestBodySize
		// (413 above it, as net/http's MaxBytesReader).
		h.answerFast(ctx, ctx.PostBody())
	case (ctx.IsGet() || ctx.IsHead()) && len(p) > len(prefix) && string(p[:len(prefix)]) == prefix && len(p)-len(prefix) <= 2*MaxRequestBytes:
		der, ok := decodeGetPath(p[len(prefix):])
		if !ok {
			// Junk (malformedRequest), or a broken percent escape, which
			// net/http's server refuses with 400: ServeHTTP's path tells.
			h.slowFast(ctx)
			return
		}
		h.answerFast(ctx, der)
	default:
		h.slowFast(ctx)
	}
}

// fastError answers a request fasthttp refused before the handler: 413 for
// a body over MaxRequestBytes (as net/http's handler answers an OCSP POST, and
// logged as it is), 431 for a request head over net/http's limit, 408 on a
// read timeout (net/http answers a cut request line 400 and the handler a cut
// POST body malformedRequest), 400 otherwise.
func (h *Handler) fastError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		httpErrorFast(ctx, tooLarge, http.StatusRequestEntityTooLarge)
		h.logFast(ctx, h.clk.Now())
	case errors.As(err, &small):
		ctx.Error("431 Request Header Fields Too Large", http.StatusRequestHeaderFieldsTooLarge)
	case errors.As(err, &ne) && ne.Timeout():
		ctx.Error("408 Request Timeout", http.StatusRequestTimeout)
	default:
		ctx.Error("400 Bad Request", http.StatusBadRequest)
	}
}

// httpErrorFast answers as http.Error does: a plain-text message ending in
// a newline, not to be sniffed.
func httpErrorFast(ctx *fasthttp.RequestCtx, msg string, code int) {
	ctx.Error(msg+"\n", code)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
}

// slowFast serves a request through the net/http handler. A request target
// net/http's server would refuse (url.ParseRequestURI fails) gets its 400
// here rather than fasthttpadaptor's 500; as on net/http, where the server
// refuses it before the handler, it is neither logged nor counted.
func (h *Handler) slowFast(ctx *fasthttp.RequestCtx) {
	if _, err := url.ParseRequestURI(string(ctx.Request.Header.RequestURI())); err != nil {
		ctx.Error("400 Bad Request", http.StatusBadRequest)
		return
	}
	h.adapted(ctx)
}

// newAdapted returns h's net/http path as a fasthttp handler.
// The request's context there is the RequestCtx, which ends as soon as the
// server starts to shut down; net/http's does not, so it is detached.
func newAdapted(h http.Handler) fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	}))
}

func (h *Handler) answerFast(ctx *fasthttp.RequestCtx, der []byte) {
	start := h.clk.Now()
	// The request's own context ends when the server shuts down, and a
	// response signed on first request should still be answered then.
	resp, err := h.responder.Respond(context.Background(), der)
	if err != nil {
		h.ocspErrorFast(ctx, start, ocspErrorResponse(err))
		return
	}
	rh := &ctx.Response.Header
	rh.SetCanonical(hdrCacheControl, resp.cacheControlAt(start).b)
	rh.SetCanonical(hdrETag, resp.etagB)
	rh.SetCanonical(hdrLastModified, resp.lastModifiedB)
	rh.SetCanonical(hdrExpires, resp.expiresB)
	if ctx.IsGet() && string(ctx.Request.Header.PeekBytes(hdrIfNoneMatch)) == resp.ETag {
		// No Content-Type: net/http drops it from a 304 (RFC 9110 15.4.5).
		ctx.SetStatusCode(http.StatusNotModified)
	} else {
		rh.SetContentTypeBytes(ocspContentTypeB)
		// Signed responses are never written to: no copy.
		ctx.Response.SetBodyRaw(resp.DER)
	}
	h.logFast(ctx, start)
}

var (
	ocspContentTypeB = []byte("application/ocsp-response")
	hdrCacheControl  = []byte("Cache-Control")
	hdrETag          = []byte("Etag") // as net/http's canonical form
	hdrLastModified  = []byte("Last-Modified")
	hdrExpires       = []byte("Expires")
	hdrIfNoneMatch   = []byte("If-None-Match")
	noStore          = []byte("no-store")
)

func (h *Handler) ocspErrorFast(ctx *fasthttp.RequestCtx, start time.Time, body []byte) {
	ctx.Response.Header.SetContentTypeBytes(ocspContentTypeB)
	ctx.Response.Header.SetCanonical(hdrCacheControl, noStore)
	ctx.Response.SetBodyRaw(body)
	h.logFast(ctx, start)
}

// logFast counts the request and writes its access-log line (the same
// line ServeHTTP writes). The duration is from the handler's start: fasthttp
// has read the request by then, as net/http has when it calls ServeHTTP.
func (h *Handler) logFast(ctx *fasthttp.RequestCtx, start time.Time) {
	h.requests.Add(1)
	l := h.log
	if l == nil {
		return
	}
	now := h.clk.Now()
	status, n := ctx.Response.StatusCode(), len(ctx.Response.Body())
	uri, method := ctx.Request.Header.RequestURI(), ctx.Method()
	if len(uri) > maxLogURI || len(method) > maxLogMethod {
		l.line(start, now.Sub(start), &http.Request{RemoteAddr: ctx.RemoteAddr().String(), Method: string(ctx.Method()), RequestURI: string(uri)}, status, n)
		return
	}
	b := l.begin(start)
	b = appendAddr(b, ctx.RemoteAddr())
	b = append(b, ' ')
	b = appendQuoted(b, method, uri)
	l.finish(b, status, n, now.Sub(start))
}

// appendAddr appends a as net/http's Request.RemoteAddr spells it.
func appendAddr(b []byte, a net.Addr) []byte {
	if ta, ok := a.(*net.TCPAddr); ok {
		// net.IP.String spells an IPv4-mapped address as IPv4.
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(b)
	}
	return append(b, a.String()...)
}
