package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/clock"
)

// DefaultOCSPValidity is nextUpdate - thisUpdate of OCSP responses.
const DefaultOCSPValidity = 24 * time.Hour

// maxUnknownCached bounds the cache of "unknown" answers, which a client can
// provoke with made-up serials; past it unknown answers are signed per request.
const maxUnknownCached = 10000

// Response is a signed OCSP response ready to serve.
type Response struct {
	DER        []byte
	ETag       string
	ThisUpdate time.Time
	NextUpdate time.Time
	Status     int // ocsp.Good, ocsp.Revoked, ocsp.Unknown

	// HTTP header values formatted once at signing time, as the []string a
	// http.Header holds (shared: net/http only reads them, and Set or Add
	// replace or grow a one-element slice, never write into it).
	etagHdr, lastModified, expires, contentLength []string
	// The same values as bytes, for the fasthttp serving path.
	etagB, lastModifiedB, expiresB []byte
	// cacheControl is the Cache-Control value of the last second it was
	// asked for (max-age counts down to NextUpdate).
	cacheControl atomic.Pointer[cacheControl]
}

type cacheControl struct {
	age int64
	hdr []string
	b   []byte // hdr[0]
}

// cacheControlAt returns the Cache-Control value at now: max-age counts
// down to NextUpdate, and the value is formatted once a second per response.
func (r *Response) cacheControlAt(now time.Time) *cacheControl {
	age := max(int64(r.NextUpdate.Sub(now)/time.Second), 0)
	cc := r.cacheControl.Load()
	if cc == nil || cc.age != age {
		v := "public, no-transform, must-revalidate, max-age=" + strconv.FormatInt(age, 10)
		cc = &cacheControl{age: age, hdr: []string{v}, b: []byte(v)}
		r.cacheControl.Store(cc)
	}
	return cc
}

type cacheKey struct {
	issuer string
	serial string
	hash   crypto.Hash
}

type issuerHashes struct {
	name, key []byte
}

type responderIssuer struct {
	Issuer
	hashes map[crypto.Hash]issuerHashes
	signer *ocspSigner // the CA, or its delegated responder
}

// Responder answers OCSP requests (RFC 6960, RFC 5019) from pre-signed
// responses: Refresh signs what changed in the store, and the hot path is a
// map lookup. A response is re-signed when its record changes or when half
// its validity has passed. All its times come from clk: producedAt and
// thisUpdate are the signing time truncated to the minute, nextUpdate is
// thisUpdate plus the validity.
type Responder struct {
	store    Store
	clk      clock.Clock
	validity time.Duration
	issuers  []*responderIssuer

	signed atomic.Int64 // signatures made, for tests and metrics

	mu      sync.RWMutex
	cache   map[cacheKey]*Response
	byRaw   map[string]cacheKey // request DER -> key: repeat requests skip parsing
	unknown int
	gen     int64 // store generation the cache reflects
}

// ResponderConfig configures NewResponder.
type ResponderConfig struct {
	Store   Store
	Clock   clock.Clock // nil means the wall clock
	Issuers []Issuer
	// Validity of each response; zero means DefaultOCSPValidity. Windows
	// caches a response until its nextUpdate, so a shorter validity makes
	// revocations visible sooner at the cost of more fetches.
	Validity time.Duration
}

var hashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

// NewResponder checks the configuration and precomputes the issuers'
// name and key hashes for every hash a request may use.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if cfg.Store == nil || len(cfg.Issuers) == 0 {
		return nil, errors.New("crl: responder needs a store and at least one issuer")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Validity <= 0 {
		cfg.Validity = DefaultOCSPValidity
	}
	r := &Responder{store: cfg.Store, clk: cfg.Clock, validity: cfg.Validity, cache: map[cacheKey]*Response{}, byRaw: map[string]cacheKey{}, gen: -1}
	for _, iss := range cfg.Issuers {
		ri := &responderIssuer{Issuer: iss, hashes: map[crypto.Hash]issuerHashes{}}
		var spki struct {
			Algorithm asn1.RawValue
			PublicKey asn1.BitString
		}
		if _, err := asn1.Unmarshal(iss.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
			return nil, fmt.Errorf("crl: issuer %s: %w", iss.Name, err)
		}
		for _, h := range hashes {
			nh := h.New()
			nh.Write(iss.Cert.RawSubject)
			kh := h.New()
			kh.Write(spki.PublicKey.RightAlign())
			ri.hashes[h] = issuerHashes{name: nh.Sum(nil), key: kh.Sum(nil)}
		}
		if (iss.OCSPCert == nil) != (iss.OCSPSigner == nil) {
			return nil, fmt.Errorf("crl: issuer %s: delegated OCSP certificate and key go together", iss.Name)
		}
		var err error
		switch {
		case iss.OCSPCert != nil:
			ri.signer, err = newOCSPSigner(iss.OCSPCert, iss.OCSPSigner, true)
		case iss.Signer != nil:
			ri.signer, err = newOCSPSigner(iss.Cert, iss.Signer, false)
		default:
			err = errors.New("no key to sign OCSP responses with")
		}
		if err != nil {
			return nil, fmt.Errorf("crl: issuer %s: %w", iss.Name, err)
		}
		r.issuers = append(r.issuers, ri)
	}
	return r, nil
}

// lookup finds the issuer a request names, by name and key hash.
func (r *Responder) lookup(req *ocsp.Request) *responderIssuer {
	for _, ri := range r.issuers {
		h, ok := ri.hashes[req.HashAlgorithm]
		if ok && bytes.Equal(h.key, req.IssuerKeyHash) && bytes.Equal(h.name, req.IssuerNameHash) {
			return ri
		}
	}
	return nil
}

// ErrMalformed and ErrUnauthorized classify requests that get an OCSP error
// status instead of a signed response.
var (
	ErrMalformed    = errors.New("malformed OCSP request")
	ErrUnauthorized = errors.New("OCSP request for an issuer this responder does not serve")
)

// Respond answers a DER OCSP request. It returns ErrMalformed or
// ErrUnauthorized (wrapped) for requests that get an error status.
func (r *Responder) Respond(ctx context.Context, der []byte) (*Response, error) {
	now := r.clk.Now()
	// Hot path: the same request bytes as before (clients ask for the same
	// certificates over and over) map straight to the current response.
	r.mu.RLock()
	if key, ok := r.byRaw[string(der)]; ok {
		if resp := r.cache[key]; resp != nil && now.Before(refreshAt(resp)) {
			r.mu.RUnlock()
			return resp, nil
		}
	}
	r.mu.RUnlock()
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if req.SerialNumber == nil || req.SerialNumber.Sign() < 0 {
		return nil, fmt.Errorf("%w: no serial", ErrMalformed)
	}
	ri := r.lookup(req)
	if ri == nil {
		return nil, ErrUnauthorized
	}
	key := cacheKey{ri.Name, SerialHex(req.SerialNumber), req.HashAlgorithm}
	r.mu.RLock()
	resp := r.cache[key]
	r.mu.RUnlock()
	if resp != nil && now.Before(refreshAt(resp)) {
		r.remember(der, key)
		return resp, nil
	}
	rec, err := r.store.Get(ctx, ri.Name, req.SerialNumber)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var recp *Record
	if err == nil {
		recp = &rec
	}
	resp, err = r.sign(ri, recp, req, now)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if resp.Status != ocsp.Unknown || r.unknown < maxUnknownCached {
		if resp.Status == ocsp.Unknown && r.cache[key] == nil {
			r.unknown++
		}
		r.cache[key] = resp
	}
	r.mu.Unlock()
	if resp.Status != ocsp.Unknown {
		r.remember(der, key)
	}
	return resp, nil
}

// maxRawIndex bounds the request-bytes index; past it, requests are parsed.
const maxRawIndex = 100000

func (r *Responder) remember(der []byte, key cacheKey) {
	r.mu.Lock()
	if len(r.byRaw) < maxRawIndex {
		r.byRaw[string(der)] = key
	}
	r.mu.Unlock()
}

// refreshAt is when a cached response is re-signed: half way through its
// validity, so clients never receive one close to expiry.
func refreshAt(resp *Response) time.Time {
	return resp.ThisUpdate.Add(resp.NextUpdate.Sub(resp.ThisUpdate) / 2)
}

// sign signs a response for serial with the record's status (nil: unknown),
// produced at now.
func (r *Responder) sign(ri *responderIssuer, rec *Record, req *ocsp.Request, now time.Time) (*Response, error) {
	r.signed.Add(1)
	this := now.UTC().Truncate(time.Minute)
	e := ocspEntry{
		Hash:       req.HashAlgorithm, // the CertID must match the request's
		Names:      ri.hashes[req.HashAlgorithm],
		Serial:     req.SerialNumber,
		Status:     ocsp.Unknown,
		ThisUpdate: this,
		NextUpdate: this.Add(r.validity),
	}
	if rec != nil {
		e.Status = ocsp.Good
		if rec.Status == Revoked {
			e.Status, e.RevokedAt, e.Reason = ocsp.Revoked, rec.RevokedAt, rec.Reason
		}
	}
	der, err := ri.signer.sign(e, this)
	if err != nil {
		return nil, fmt.Errorf("crl: signing OCSP response for %s serial %x: %w", ri.Name, req.SerialNumber, err)
	}
	sum := sha256.Sum256(der)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	lm, ex := e.ThisUpdate.Format(http.TimeFormat), e.NextUpdate.Format(http.TimeFormat)
	return &Response{DER: der, ETag: etag, ThisUpdate: e.ThisUpdate, NextUpdate: e.NextUpdate, Status: e.Status,
		etagHdr: []string{etag}, lastModified: []string{lm}, expires: []string{ex}, contentLength: []string{strconv.Itoa(len(der))},
		etagB: []byte(etag), lastModifiedB: []byte(lm), expiresB: []byte(ex)}, nil
}

// Refresh re-signs the SHA-1 responses (what Windows and OpenSSL ask for) of
// every record changed since the last Refresh, and every cached response
// past half its validity, so that the request path does no signing. The
// first call signs a response for every known certificate.
func (r *Responder) Refresh(ctx context.Context) (signed int, err error) {
	gen, err := r.store.Generation(ctx)
	if err != nil {
		return 0, err
	}
	now := r.clk.Now()
	r.mu.RLock()
	last := r.gen
	var stale []cacheKey
	for k, v := range r.cache {
		if !now.Before(refreshAt(v)) {
			stale = append(stale, k)
		}
	}
	r.mu.RUnlock()
	for _, ri := range r.issuers {
		var recs []Record
		if last < 0 {
			recs, err = r.store.All(ctx, ri.Name)
		} else if gen != last {
			recs, err = r.store.ChangedSince(ctx, ri.Name, last)
		}
		if err != nil {
			return signed, err
		}
		for i := range recs {
			n, err := r.resign(ctx, ri, &recs[i], now)
			if err != nil {
				return signed, err
			}
			signed += n
		}
	}
	for _, k := range stale {
		r.mu.RLock()
		cur := r.cache[k]
		r.mu.RUnlock()
		if cur != nil && now.Before(refreshAt(cur)) {
			continue // re-signed above because its record changed
		}
		ri := r.issuerNamed(k.issuer)
		serial, _ := ParseSerial(k.serial)
		if ri == nil || serial == nil {
			continue
		}
		rec, err := r.store.Get(ctx, ri.Name, serial)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return signed, err
		}
		var recp *Record
		if err == nil {
			recp = &rec
		}
		resp, err := r.sign(ri, recp, &ocsp.Request{HashAlgorithm: k.hash, SerialNumber: serial}, now)
		if err != nil {
			return signed, err
		}
		r.mu.Lock()
		r.cache[k] = resp
		r.mu.Unlock()
		signed++
	}
	r.mu.Lock()
	r.gen = gen
	r.mu.Unlock()
	return signed, nil
}

// resign signs fresh responses for a changed record: SHA-1 always, plus
// every other hash a client has asked for.
func (r *Responder) resign(ctx context.Context, ri *responderIssuer, rec *Record, now time.Time) (int, error) {
	n := 0
	for _, h := range hashes {
		key := cacheKey{ri.Name, SerialHex(rec.Serial), h}
		r.mu.RLock()
		_, have := r.cache[key]
		r.mu.RUnlock()
		if h != crypto.SHA1 && !have {
			continue
		}
		resp, err := r.sign(ri, rec, &ocsp.Request{HashAlgorithm: h, SerialNumber: rec.Serial}, now)
		if err != nil {
			return n, err
		}
		r.mu.Lock()
		if old := r.cache[key]; old != nil && old.Status == ocsp.Unknown {
			r.unknown--
		}
		r.cache[key] = resp
		r.mu.Unlock()
		n++
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *Responder) issuerNamed(name string) *responderIssuer {
	for _, ri := range r.issuers {
		if ri.Name == name {
			return ri
		}
	}
	return nil
}

// Signed returns how many responses the responder has signed.
func (r *Responder) Signed() int64 { return r.signed.Load() }
