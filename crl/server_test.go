package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

func ocspReq(t testing.TB, c, issuer *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func post(t testing.TB, base string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/ocsp", "application/ocsp-request", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func get(t testing.TB, rawURL string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirected") }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestOCSPStatuses(t *testing.T) { forEngines(t, testOCSPStatuses) }

func testOCSPStatuses(t *testing.T, eng Engine) {
	fx := newFixture(t, "", NewMemStore(), nil)
	srv, _, u, r := fx.serverWith(t, eng)
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	leaf := fx.cert(t, "client01")

	check := func(want int, h crypto.Hash) *ocsp.Response {
		t.Helper()
		resp, body := post(t, srv.URL, ocspReq(t, leaf, issuer, h))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		or, err := ocsp.ParseResponseForCert(body, leaf, issuer)
		if err != nil {
			t.Fatalf("response does not verify against the issuing CA: %v", err)
		}
		if or.Status != want || or.IssuerHash != h {
			t.Fatalf("status %d hash %v, want %d %v", or.Status, or.IssuerHash, want, h)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=86") || resp.Header.Get("ETag") == "" {
			t.Errorf("cache headers: %q etag %q", cc, resp.Header.Get("ETag"))
		}
		return or
	}
	check(ocsp.Good, crypto.SHA1)
	check(ocsp.Good, crypto.SHA256)

	// The hot path does not sign once responses are pre-signed.
	before := r.Signed()
	for i := 0; i < 50; i++ {
		check(ocsp.Good, crypto.SHA1)
	}
	if r.Signed() != before {
		t.Errorf("%d signatures on the hot path", r.Signed()-before)
	}

	fx.store.Revoke(context.Background(), "", leaf.SerialNumber, pkitest.At, ocsp.KeyCompromise)
	if _, err := u.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	or := check(ocsp.Revoked, crypto.SHA1)
	if !or.RevokedAt.Equal(pkitest.At) || or.RevocationReason != ocsp.KeyCompromise {
		t.Errorf("revoked at %s reason %d", or.RevokedAt, or.RevocationReason)
	}
	check(ocsp.Revoked, crypto.SHA256) // the SHA-256 response was re-signed too

	// An unknown serial of a known issuer.
	fake := *leaf
	fake.SerialNumber = big.NewInt(424242)
	_, body := post(t, srv.URL, ocspReq(t, &fake, issuer, crypto.SHA1))
	if or, err := ocsp.ParseResponse(body, issuer); err != nil || or.Status != ocsp.Unknown {
		t.Errorf("unknown serial: %v %+v", err, or)
	}
}

func TestOCSPResponsesRefreshBeforeExpiry(t *testing.T) {
	forEngines(t, testOCSPResponsesRefreshBeforeExpiry)
}

func testOCSPResponsesRefreshBeforeExpiry(t *testing.T, eng Engine) {
	fx := newFixture(t, "", NewMemStore(), nil)
	srv, h, u, r := fx.serverWith(t, eng)
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	leaf := fx.cert(t, "mp-https")
	_, body := post(t, srv.URL, ocspReq(t, leaf, issuer, crypto.SHA1))
	first, _ := ocsp.ParseResponse(body, issuer)
	crl1, _ := h.CRL("issuing-ca")

	fx.clk.Add(13 * time.Hour) // past half of the 24 h validity
	before := r.Signed()
	if _, err := u.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Signed() == before {
		t.Error("no response was re-signed past half its validity")
	}
	_, body = post(t, srv.URL, ocspReq(t, leaf, issuer, crypto.SHA1))
	second, _ := ocsp.ParseResponse(body, issuer)
	if !second.ThisUpdate.After(first.ThisUpdate) {
		t.Errorf("thisUpdate %s did not move from %s", second.ThisUpdate, first.ThisUpdate)
	}
	if c, _ := h.CRL("issuing-ca"); c.Number.Cmp(crl1.Number) != 0 {
		t.Error("the CRL was regenerated with nothing changed and far from expiry")
	}
	fx.clk.Add(5 * 24 * time.Hour) // past two thirds of the 7-day CRL
	u.RunOnce(context.Background())
	if c, _ := h.CRL("issuing-ca"); c.Number.Cmp(crl1.Number) <= 0 || !c.ThisUpdate.Equal(fx.clk.Now().Truncate(time.Second)) {
		t.Errorf("CRL not regenerated before nextUpdate: number %v this %s", c.Number, c.ThisUpdate)
	}
}

// TestOCSPGetPaths: RFC 5019 GET with base64 holding '/', '+' and '//'
// (which http.ServeMux would redirect), percent-escaped, or with '+' turned
// into spaces.
func TestOCSPGetPaths(t *testing.T) { forEngines(t, testOCSPGetPaths) }

func testOCSPGetPaths(t *testing.T, eng Engine) {
	fx := newFixture(t, "", NewMemStore(), nil)
	srv, _, _, _ := fx.serverWith(t, eng)
	issuer := fx.lab.Authorities["issuing-ca"].Cert
	leaf := fx.cert(t, "client01")
	var b64 string
	fake := *leaf
	for i := 0; i < 200000 && !(strings.Contains(b64, "//") && strings.Contains(b64, "+")); i++ {
		fake.SerialNumber, _ = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		b64 = base64.StdEncoding.EncodeToString(ocspReq(t, &fake, issuer, crypto.SHA1))
	}
	if !strings.Contains(b64, "//") {
		t.Fatal("found no request whose base64 has //")
	}
	for name, path := range map[string]string{
		"raw":         b64,
		"escaped":     url.PathEscape(b64),
		"all escaped": strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(b64),
		"spaces":      strings.ReplaceAll(b64, "+", "%20"),
	} {
		resp, body := get(t, srv.URL+"/ocsp/"+path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: HTTP %d", name, resp.StatusCode)
			continue
		}
		or, err := ocsp.ParseResponse(body, issuer)
		if err != nil || or.SerialNumber.Cmp(fake.SerialNumber) != 0 || or.Status != ocsp.Unknown {
			t.Errorf("%s: %v %+v", name, err, or)
		}
	}
	good := base64.StdEncoding.EncodeToString(ocspReq(t, leaf, issuer, crypto.SHA1))
	resp, _ := get(t, srv.URL+"/ocsp/"+good, nil)
	etag := resp.Header.Get("ETag")
	if resp2, _ := get(t, srv.URL+"/ocsp/"+good, map[string]string{"If-None-Match": etag}); resp2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: HTTP %d, want 304", resp2.StatusCode)
	}
}

func TestOCSPBadRequests(t *testing.T) { forEngines(t, testOCSPBadRequests) }

func testOCSPBadRequests(t *testing.T, eng Engine) {
	fx := newFixture(t, "", NewMemStore(), nil)
	srv, _, _, _ := fx.serverWith(t, eng)
	leaf := fx.cert(t, "client01")

	for name, body := range map[string][]byte{"garbage": []byte("not DER"), "empty": nil, "truncated": ocspReq(t, leaf, fx.lab.Authorities["issuing-ca"].Cert, crypto.SHA1)[:20]} {
		resp, b := post(t, srv.URL, body)
		_, err := ocsp.ParseResponse(b, nil)
		var re ocsp.ResponseError
		if resp.StatusCode != 200 || !errors.As(err, &re) || re.Status != ocsp.Malformed {
			t.Errorf("%s: HTTP %d %v, want 200 malformedRequest", name, resp.StatusCode, err)
		}
	}
	resp, b := get(t, srv.URL+"/ocsp/!!notbase64!!", nil)
	if _, err := ocsp.ParseResponse(b, nil); resp.StatusCode != 200 || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("bad base64: HTTP %d %v", resp.StatusCode, err)
	}
	// A CA this responder does not serve.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Stranger CA"}, NotBefore: pkitest.At, NotAfter: pkitest.At.Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	stranger, _ := x509.ParseCertificate(der)
	_, b = post(t, srv.URL, ocspReq(t, leaf, stranger, crypto.SHA1))
	var re ocsp.ResponseError
	if _, err := ocsp.ParseResponse(b, nil); !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
		t.Errorf("unknown issuer: %v, want unauthorized", err)
	}
	resp, _ = post(t, srv.URL, bytes.Repeat([]byte{0x30}, MaxRequestBytes+1))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized POST: HTTP %d, want 413", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+"/ocsp", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /ocsp: HTTP %d, want 405", resp.StatusCode)
	}
	if resp, _ := http.Post(srv.URL+"/crl/issuing-ca.crl", "x", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to a CRL: HTTP %d, want 405", resp.StatusCode)
	}
}

func TestCRLAndCAOverHTTP(t *testing.T) { forEngines(t, testCRLAndCAOverHTTP) }

func testCRLAndCAOverHTTP(t *testing.T, eng Engine) {
	fx := newFixture(t, "", NewMemStore(), nil)
	srv, h, _, _ := fx.serverWith(t, eng)
	resp, body := get(t, srv.URL+"/crl/issuing-ca.crl", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c, _ := h.CRL("issuing-ca")
	if !bytes.Equal(body, c.DER) {
		t.Error("served CRL differs from the generated one")
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=604800") {
		t.Errorf("Cache-Control %q, want max-age up to nextUpdate (7 days)", cc)
	}
	if lm, _ := http.ParseTime(resp.Header.Get("Last-Modified")); !lm.Equal(c.ThisUpdate) {
		t.Errorf("Last-Modified %s, want thisUpdate %s", lm, c.ThisUpdate)
	}
	if r, _ := get(t, srv.URL+"/crl/issuing-ca.crl", map[string]string{"If-None-Match": resp.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: HTTP %d", r.StatusCode)
	}
	if r, _ := get(t, srv.URL+"/crl/issuing-ca.crl", map[string]string{"If-Modified-Since": resp.Header.Get("Last-Modified")}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: HTTP %d", r.StatusCode)
	}
	if r, _ := get(t, srv.URL+"/crl/nope.crl", nil); r.StatusCode != 404 {
		t.Errorf("unknown CRL: HTTP %d", r.StatusCode)
	}
	resp, body = get(t, srv.URL+"/ca/issuing-ca.cer", nil)
	if resp.Header.Get("Content-Type") != "application/pkix-cert" || !bytes.Equal(body, fx.lab.Authorities["issuing-ca"].Cert.Raw) {
		t.Errorf("AIA: %s", resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, srv.URL+"/healthz", nil)
	var hz struct {
		Status   string                     `json:"status"`
		Requests int64                      `json:"requests"`
		CRLs     map[string]json.RawMessage `json:"crls"`
	}
	if err := json.Unmarshal(body, &hz); err != nil || resp.StatusCode != 200 || hz.Status != "ok" || len(hz.CRLs) != 3 || hz.Requests != 5 { // the five requests above
		t.Errorf("healthz: HTTP %d %v %s", resp.StatusCode, err, body)
	}
	// Published files match what is served.
	onDisk, err := x509ReadCRL(filepath.Join(fx.lab.Dir, "crl", "issuing-ca.crl"))
	if err != nil || onDisk.Number.Cmp(c.Number) != 0 {
		t.Errorf("published CRL: %v", err)
	}
}

func x509ReadCRL(path string) (*x509.RevocationList, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(b)
}

// A response that is both stale and changed is signed once per Refresh.
func TestRefreshSignsOnce(t *testing.T) {
	fx := newFixture(t, "", NewMemStore(), &labSpecNoLeaves)
	_, _, u, r := fx.server(t)
	leaf := fx.cert(t, "mp-https")
	fx.clk.Add(13 * time.Hour) // every cached response is past half its validity
	fx.store.Revoke(context.Background(), "", leaf.SerialNumber, fx.clk.Now(), ocsp.Superseded)
	var cached int
	r.mu.RLock()
	cached = len(r.cache)
	r.mu.RUnlock()
	before := r.Signed()
	if _, err := u.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.Signed() - before; got != int64(cached) {
		t.Errorf("Refresh signed %d responses for %d cached ones", got, cached)
	}
}
