package crl

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/derutil"
	"github.com/cmgpki/cmgpki/internal/layout"
)

// MaxRequestBytes bounds an OCSP POST body; larger requests get 413. A
// single-certificate request is about 80 bytes.
const MaxRequestBytes = 16 << 10

var tooLarge = fmt.Sprintf("OCSP request larger than %d bytes", MaxRequestBytes)

// Handler serves, under BasePath, the CRL of each issuer at
// /crl/NAME.crl, its certificate at /ca/NAME.cer, OCSP at /ocsp (POST) and
// /ocsp/{base64} (GET), and /healthz. It routes on the escaped path itself:
// http.ServeMux cleans paths and would redirect base64 containing "//".
type Handler struct {
	responder *Responder
	clk       clock.Clock
	basePath  string
	caCerts   map[string][]byte
	crls      sync.Map // name -> *CRL
	log       *accessLog
	store     Store
	requests  atomic.Int64
	adapted   func(*fasthttp.RequestCtx) // ServeHTTP for ServeFastHTTP
}

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	Responder *Responder
	Store     Store
	Clock     clock.Clock
	Issuers   []Issuer
	// BasePath is the path of the lab's base URL ("" for http://host:port).
	BasePath string
	// AccessLog receives one line per request; nil means none.
	AccessLog io.Writer
}

// NewHandler returns the revocation HTTP handler. CRLs are installed with
// SetCRL (the Updater does it).
func NewHandler(cfg HandlerConfig) *Handler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	h := &Handler{responder: cfg.Responder, clk: cfg.Clock, basePath: strings.TrimRight(cfg.BasePath, "/"),
		caCerts: map[string][]byte{}, store: cfg.Store}
	for _, iss := range cfg.Issuers {
		h.caCerts[iss.Name] = iss.Cert.Raw
	}
	if cfg.AccessLog != nil {
		h.log = newAccessLog(cfg.AccessLog)
	}
	h.adapted = newAdapted(h)
	return h
}

// SetCRL installs the CRL served for c.Issuer.
func (h *Handler) SetCRL(c *CRL) { h.crls.Store(c.Issuer, c) }

// CRL returns the CRL currently served for issuer.
func (h *Handler) CRL(issuer string) (*CRL, bool) {
	v, ok := h.crls.Load(issuer)
	if !ok {
		return nil, false
	}
	return v.(*CRL), true
}

// Close flushes the access log.
func (h *Handler) Close() {
	if h.log != nil {
		h.log.close()
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := requestPath(r)
	if h.log == nil {
		h.route(w, r, p)
		h.requests.Add(1)
		return
	}
	start := h.clk.Now()
	sw := statusWriters.Get().(*statusWriter)
	*sw = statusWriter{ResponseWriter: w}
	h.route(sw, r, p)
	h.requests.Add(1)
	h.log.line(start, h.clk.Now().Sub(start), r, sw.status, sw.bytes)
	*sw = statusWriter{}
	statusWriters.Put(sw)
}

// requestPath is the path of r as the client sent it: never cleaned or
// re-escaped. The server's request target (origin form) is used as is; a
// request built otherwise (absolute form, or not from a server) falls back
// to URL.EscapedPath, which is the same string for every valid target but
// costs two passes over it (validEncoded, then unescape to compare).
func requestPath(r *http.Request) string {
	if u := r.RequestURI; len(u) > 0 && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	return r.URL.EscapedPath()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// trimBase cuts the base path off p (a request path as sent); false when
// p is not below it. Both serving paths route with it.
func trimBase[S string | []byte](p S, base string) (S, bool) {
	if base == "" {
		return p, true
	}
	if len(p) <= len(base) || string(p[:len(base)]) != base || p[len(base)] != '/' {
		return p, false
	}
	return p[len(base):], true
}

// ocspErrorResponse is the unsigned OCSP answer to a Respond error.
func ocspErrorResponse(err error) []byte {
	switch {
	case errors.Is(err, ErrMalformed):
		return ocsp.MalformedRequestErrorResponse
	case errors.Is(err, ErrUnauthorized):
		return ocsp.UnauthorizedErrorResponse
	}
	return ocsp.InternalErrorErrorResponse
}

func (h *Handler) route(w http.ResponseWriter, r *http.Request, p string) {
	p, ok := trimBase(p, h.basePath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case p == layout.OCSPPath || (p == layout.OCSPPath+"/" && r.Method == http.MethodPost):
		h.ocspPost(w, r)
	case strings.HasPrefix(p, layout.OCSPPath+"/"):
		h.ocspGet(w, r, p[len(layout.OCSPPath)+1:])
	case strings.HasPrefix(p, layout.CRLPrefix) && strings.HasSuffix(p, ".crl"):
		h.serveCRL(w, r, strings.TrimSuffix(strings.TrimPrefix(p, layout.CRLPrefix), ".crl"))
	case strings.HasPrefix(p, layout.CAPrefix) && strings.HasSuffix(p, ".cer"):
		h.serveCA(w, r, strings.TrimSuffix(strings.TrimPrefix(p, layout.CAPrefix), ".cer"))
	case p == layout.HealthPath:
		h.health(w, r)
	default:
		http.NotFound(w, r)
	}
}

func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func cacheFor(w http.ResponseWriter, etag string, modified, expires, now time.Time) {
	hd := w.Header()
	age := int64(expires.Sub(now) / time.Second)
	if age < 0 {
		age = 0
	}
	hd.Set("Cache-Control", "public, no-transform, must-revalidate, max-age="+strconv.FormatInt(age, 10))
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	hd.Set("Expires", expires.UTC().Format(http.TimeFormat))
}

func (h *Handler) serveCRL(w http.ResponseWriter, r *http.Request, name string) {
	if !onlyGet(w, r) {
		return
	}
	c, ok := h.CRL(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(c.DER)
	w.Header().Set("Content-Type", "application/pkix-crl")
	cacheFor(w, `"`+hex.EncodeToString(sum[:12])+`"`, c.ThisUpdate, c.NextUpdate, h.clk.Now())
	// ServeContent answers If-None-Match / If-Modified-Since with 304.
	http.ServeContent(w, r, name+".crl", c.ThisUpdate, bytes.NewReader(c.DER))
}

func (h *Handler) serveCA(w http.ResponseWriter, r *http.Request, name string) {
	if !onlyGet(w, r) {
		return
	}
	der, ok := h.caCerts[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(der)
	now := h.clk.Now()
	w.Header().Set("Content-Type", "application/pkix-cert")
	cacheFor(w, `"`+hex.EncodeToString(sum[:12])+`"`, time.Unix(0, 0), now.Add(24*time.Hour), now)
	w.Header().Del("Last-Modified")
	http.ServeContent(w, r, name+".cer", time.Time{}, bytes.NewReader(der))
}

func (h *Handler) ocspPost(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "OCSP over POST at this path; GET requests go to /ocsp/{base64}", http.StatusMethodNotAllowed)
		return
	}
	if n := r.ContentLength; n > 0 && n <= MaxRequestBytes {
		// The usual request: its length is known and net/http's body reader
		// stops at it, so one exact read replaces ReadAll's growing buffer.
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			h.ocspError(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		h.answer(w, r, body)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, tooLarge, http.StatusRequestEntityTooLarge)
			return
		}
		h.ocspError(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	h.answer(w, r, body)
}

func (h *Handler) ocspGet(w http.ResponseWriter, r *http.Request, escaped string) {
	if !onlyGet(w, r) {
		return
	}
	if len(escaped) > 2*MaxRequestBytes {
		http.Error(w, "OCSP request too large", http.StatusRequestURITooLong)
		return
	}
	der, ok := decodeGetPath(escaped)
	if !ok {
		h.ocspError(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	h.answer(w, r, der)
}

// decodeGetPath decodes the last segment of an RFC 5019 GET path: percent
// escapes (as url.PathUnescape: a '%' not followed by two hex digits is an
// error, '+' stays '+'), then base64 with or without padding. Some clients
// form-encode the base64, turning '+' into ' ' (cfssl #354): spaces, sent as
// %20, are read as '+'. One allocation holds both steps.
func decodeGetPath[S string | []byte](escaped S) ([]byte, bool) {
	// The decoded bytes never outnumber the unescaped ones, nor those the
	// escaped ones; Decode needs room for a partial quantum of bad input.
	buf := make([]byte, 2*len(escaped)+4)
	raw := buf[:0]
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' {
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return nil, false
			}
			c = unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			i += 2
		}
		if c == ' ' {
			c = '+'
		}
		raw = append(raw, c)
	}
	dst := buf[len(escaped):]
	n, err := base64.StdEncoding.Decode(dst, raw)
	if err != nil {
		for len(raw) > 0 && raw[len(raw)-1] == '=' {
			raw = raw[:len(raw)-1]
		}
		if n, err = base64.RawStdEncoding.Decode(dst, raw); err != nil {
			return nil, false
		}
	}
	return dst[:n:n], true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request, der []byte) {
	resp, err := h.responder.Respond(r.Context(), der)
	if err != nil {
		h.ocspError(w, ocspErrorResponse(err))
		return
	}
	// Header values were formatted when the response was signed; only
	// max-age depends on the time of the request, and it is formatted once
	// a second per response.
	hd := w.Header()
	cc := resp.cacheControlAt(h.clk.Now())
	hd["Content-Type"] = ocspContentType
	hd["Cache-Control"] = cc.hdr
	hd["Etag"] = resp.etagHdr
	hd["Last-Modified"] = resp.lastModified
	hd["Expires"] = resp.expires
	if r.Method == http.MethodGet && r.Header.Get("If-None-Match") == resp.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd["Content-Length"] = resp.contentLength
	w.Write(resp.DER)
}

var ocspContentType = []string{"application/ocsp-response"}

// ocspError answers with an unsigned OCSP error status (HTTP 200, as RFC 6960
// appendix A expects), never cached.
func (h *Handler) ocspError(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	if !onlyGet(w, r) {
		return
	}
	type crlState struct {
		Number     string    `json:"number"`
		NextUpdate time.Time `json:"next_update"`
		Entries    int       `json:"entries"`
	}
	out := struct {
		Status     string              `json:"status"` // ok | degraded (store unreachable)
		StoreError string              `json:"store_error,omitempty"`
		Generation int64               `json:"store_generation"`
		Requests   int64               `json:"requests"` // served since start, this one excluded
		CRLs       map[string]crlState `json:"crls"`
	}{Status: "ok", Requests: h.requests.Load(), CRLs: map[string]crlState{}}
	code := http.StatusOK
	if h.store != nil {
		// Without its store the server still answers from its cached CRLs
		// and OCSP responses until they expire: degraded, not down (a load
		// balancer must not take every instance out when the database goes).
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		g, err := h.store.Generation(ctx)
		cancel()
		if err != nil {
			out.Status, out.StoreError = "degraded", err.Error()
		}
		out.Generation = g
	}
	h.crls.Range(func(k, v any) bool {
		c := v.(*CRL)
		out.CRLs[k.(string)] = crlState{Number: c.Number.String(), NextUpdate: c.NextUpdate, Entries: c.Entries}
		return true
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(out)
}

// accessLog buffers access-log lines and flushes them every 100 ms, so a
// busy responder does not pay a write system call per request; a crash
// loses at most the last 100 ms of lines.
type accessLog struct {
	mu   sync.Mutex
	buf  []byte
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
	// sec and stamp cache the RFC 3339 time of the last line's second.
	sec   int64
	stamp []byte
}

func newAccessLog(w io.Writer) *accessLog {
	l := &accessLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{}), sec: -1 << 63}
	go func() {
		defer close(l.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				l.mu.Lock()
				l.w.Flush()
				l.mu.Unlock()
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

// The method and request target in an access-log line come from the client:
// they are cut at these lengths.
const maxLogMethod, maxLogURI = 32, 200

// line writes `TIME REMOTE "METHOD URI" STATUS BYTES DURATIONms`, built
// with appends under the lock (no fmt, no per-request garbage). URI is the
// request target as the client sent it.
func (l *accessLog) line(start time.Time, d time.Duration, r *http.Request, status, n int) {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	b := l.begin(start)
	b = append(b, r.RemoteAddr...)
	b = append(b, ' ')
	b = appendQuoted(b, truncate(r.Method, maxLogMethod), truncate(uri, maxLogURI))
	l.finish(b, status, n, d)
}

// begin locks the log and returns its line buffer holding the time stamp
// of start and a space; finish appends the rest of the line and unlocks.
func (l *accessLog) begin(start time.Time) []byte {
	l.mu.Lock()
	if sec := start.Unix(); sec != l.sec {
		l.sec, l.stamp = sec, start.UTC().AppendFormat(l.stamp[:0], time.RFC3339)
	}
	b := append(l.buf[:0], l.stamp...)
	return append(b, ' ')
}

func (l *accessLog) finish(b []byte, status, n int, d time.Duration) {
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 3, 64)
	b = append(b, "ms\n"...)
	l.w.Write(b)
	l.buf = b
	l.mu.Unlock()
}

// appendQuoted appends strconv.Quote(method+" "+uri): printable ASCII
// without '"' or backslash (every valid request line) is copied as is, anything
// else goes through strconv.
func appendQuoted[S string | []byte](b []byte, method, uri S) []byte {
	if plainASCII(method) && plainASCII(uri) {
		b = append(b, '"')
		b = append(b, method...)
		b = append(b, ' ')
		b = append(b, uri...)
		return append(b, '"')
	}
	return strconv.AppendQuote(b, string(method)+" "+string(uri))
}

func plainASCII[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (l *accessLog) close() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	l.w.Flush()
	l.mu.Unlock()
}

// Updater keeps CRLs and OCSP responses current: RunOnce does one unit of
// work (cmgpki crl calls it once; serve calls it in a loop).
//
// The store keeps the latest signed CRL of each issuer (SaveCRL), and every
// CRL is saved there before it is written to PublishDir or served. RunOnce
// first adopts a CRL in the store newer than the one it has (signed by
// another process: cmgpki crl, or another serve on the same store), so the
// file on disk, the store and every server agree on the CRL number within
// one poll.
type Updater struct {
	Store    Store
	Clock    clock.Clock
	Issuers  []Issuer
	Validity time.Duration // CRL validity; zero means DefaultCRLValidity
	// PublishDir, when set, receives every CRL as NAME.crl and NAME.pem.
	PublishDir string
	Handler    *Handler   // receives every CRL; may be nil
	Responder  *Responder // refreshed on every run; may be nil
	Log        io.Writer  // one line per new or adopted CRL; may be nil
	// SignAll makes RunOnce sign a new CRL for every issuer even when the
	// current one is fresh (the crl command). False signs only what is due.
	SignAll bool
	// MaySign, when set, is asked before signing a due CRL: instances on a
	// shared store sign only while they hold its signing lock and otherwise
	// adopt the holder's CRL. An issuer without any CRL yet is signed anyway
	// (SaveCRL keeps the higher number if two instances race).
	MaySign func(context.Context) bool

	mu      sync.Mutex
	current map[string]*CRL
	covers  map[string]int64 // store generation each current CRL covers
}

// RunOnce adopts any newer CRL from the store, then signs a new CRL for each
// issuer that has none yet, whose records changed since its CRL was made,
// or whose CRL has passed two thirds of its validity (so clients never see
// it expire), then refreshes OCSP responses. It returns the CRLs it signed
// or adopted.
func (u *Updater) RunOnce(ctx context.Context) ([]*CRL, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.current == nil {
		u.current, u.covers = map[string]*CRL{}, map[string]int64{}
	}
	now := u.Clock.Now()
	gen, err := u.Store.Generation(ctx)
	if err != nil {
		return nil, err
	}
	var made []*CRL
	for _, iss := range u.Issuers {
		var c *CRL
		if !u.SignAll {
			if c, err = u.adopt(ctx, iss); err != nil {
				return made, err
			}
		}
		// A CRL from the store is judged like our own: one signed before a
		// revocation it does not list, or with a longer life than this
		// updater's Validity, is replaced before anyone is served it.
		cur := u.current[iss.Name]
		if c != nil {
			cur = c
		}
		if u.due(ctx, iss, cur, now, gen) && (cur == nil || u.MaySign == nil || u.MaySign(ctx)) {
			if c, err = Generate(ctx, u.Store, iss, now, u.Validity); err != nil {
				return made, err
			}
			err := u.Store.SaveCRL(ctx, iss.Name, StoredCRL{Number: c.Number, DER: c.DER, Gen: gen})
			if errors.Is(err, ErrStaleCRL) {
				// Another process saved a newer CRL since: serve that one.
				if c, err = u.adopt(ctx, iss); err == nil && c == nil {
					err = fmt.Errorf("crl: %s: the store reported a newer CRL and then none", iss.Name)
				}
			} else if err == nil {
				u.covers[iss.Name] = gen
				u.logf("Note: CRL %s number %s, %s, next update %s\n", iss.Name, c.Number, entries(c.Entries), c.NextUpdate.Format(time.RFC3339))
			}
			if err != nil {
				return made, err
			}
		}
		if c == nil {
			continue
		}
		// Installed even if writing the file fails, so this server never
		// falls behind the store; the error is reported.
		perr := u.publish(c, iss)
		if u.Handler != nil {
			u.Handler.SetCRL(c)
		}
		u.current[iss.Name] = c
		made = append(made, c)
		if perr != nil {
			return made, perr
		}
	}
	if u.Responder != nil {
		if _, err := u.Responder.Refresh(ctx); err != nil {
			return made, err
		}
	}
	return made, nil
}

// adopt returns the store's CRL of iss if it is newer than the current one,
// checked as a CRL of iss (signature, IDP) before it is used; nil if there
// is none. One that fails the check is logged and ignored: the next CRL
// signed here replaces it in the store.
func (u *Updater) adopt(ctx context.Context, iss Issuer) (*CRL, error) {
	var have *big.Int
	if cur := u.current[iss.Name]; cur != nil {
		have = cur.Number
	}
	sc, ok, err := u.Store.LatestCRL(ctx, iss.Name, have)
	if err != nil || !ok {
		return nil, err
	}
	c, err := parseStored(sc.DER, iss)
	if err != nil {
		u.logf("Warning: ignoring the CRL %s of %s in the store: %v\n", sc.Number, iss.Name, err)
		return nil, nil
	}
	u.covers[iss.Name] = sc.Gen
	u.logf("Note: CRL %s number %s, %s, next update %s (from the store)\n", iss.Name, c.Number, entries(c.Entries), c.NextUpdate.Format(time.RFC3339))
	return c, nil
}

// parseStored checks a CRL from the store as the publish check does and
// returns it as a CRL.
func parseStored(der []byte, iss Issuer) (*CRL, error) {
	if err := Check(der, iss, nil); err != nil {
		return nil, err
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("crl: %s: %w", iss.Name, err)
	}
	return &CRL{Issuer: iss.Name, Number: rl.Number, ThisUpdate: rl.ThisUpdate, NextUpdate: rl.NextUpdate,
		Entries: len(rl.RevokedCertificateEntries), DER: der, checked: true}, nil
}

// due reports whether iss needs a new CRL.
func (u *Updater) due(ctx context.Context, iss Issuer, cur *CRL, now time.Time, gen int64) bool {
	if u.SignAll || cur == nil || !now.Before(cur.ThisUpdate.Add(cur.NextUpdate.Sub(cur.ThisUpdate)*2/3)) {
		return true
	}
	validity := u.Validity
	if validity <= 0 {
		validity = DefaultCRLValidity
	}
	if cur.NextUpdate.Sub(cur.ThisUpdate) > validity {
		return true // made by another process (or run) with a longer life than asked for here
	}
	if gen == u.covers[iss.Name] {
		return false
	}
	changed, err := u.Store.ChangedSince(ctx, iss.Name, u.covers[iss.Name])
	if err != nil {
		return true // Generate will report the store's error
	}
	for _, r := range changed {
		// A revocation, or a change that may be a released hold.
		if r.Status == Revoked || cur.Entries > 0 {
			return true
		}
	}
	u.covers[iss.Name] = gen // nothing up to gen changes this CRL
	return false
}

// publish writes c to PublishDir unless the file there already holds it
// (the process that signed it wrote it).
func (u *Updater) publish(c *CRL, iss Issuer) error {
	if u.PublishDir == "" {
		return nil
	}
	path := filepath.Join(u.PublishDir, iss.Name+".crl")
	if old, err := os.ReadFile(path); err == nil {
		if n, err := derutil.CRLNumber(old); err == nil && n.Cmp(c.Number) == 0 && bytes.Equal(old, c.DER) {
			c.File = path
			return nil
		}
	}
	_, err := Publish(u.PublishDir, c, iss)
	return err
}

func (u *Updater) logf(format string, args ...any) {
	if u.Log != nil {
		fmt.Fprintf(u.Log, format, args...)
	}
}

// Run calls RunOnce every poll until ctx ends; errors are logged and retried.
func (u *Updater) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := u.RunOnce(ctx); err != nil && ctx.Err() == nil && u.Log != nil {
				fmt.Fprintf(u.Log, "Warning: revocation update failed (retrying in %s): %v\n", poll, err)
			}
		}
	}
}

// entries counts CRL entries for a log line: "1 entry", "3 entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
