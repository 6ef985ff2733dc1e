package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// revServer is a CDP, AIA and OCSP server on 127.0.0.1 whose answers the
// test sets.
type revServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	ocsp  func(req *ocsp.Request) []byte
	delay time.Duration
	hits  map[string]int
}

func newRevServer(t *testing.T) *revServer {
	s := &revServer{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *revServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	s.mu.Lock()
	s.hits[strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]]++
	delay, body, ok, answer := s.delay, s.files[p], false, s.ocsp
	_, ok = s.files[p]
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if raw, isOCSP := strings.CutPrefix(p, "/ocsp/"); isOCSP && answer != nil {
		b64, err := url.PathUnescape(raw)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		req, err := ocsp.ParseRequest(der)
		if err != nil {
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(answer(req))
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(body)
}

func (s *revServer) set(path string, b []byte) {
	s.mu.Lock()
	s.files[path] = b
	s.mu.Unlock()
}

func (s *revServer) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[prefix]
}

// onlinePKI is root -> ica -> leaf where the leaf's CDP, OCSP and AIA
// point at base (a revServer or a closed port).
type onlinePKI struct {
	pki
	base string
}

func newOnlinePKI(t *testing.T, base string, withOCSP bool) onlinePKI {
	p := newPKI(t)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.CRLDistributionPoints = []string{base + "/crl/ica.crl"}
	lt.IssuingCertificateURL = []string{base + "/ca/ica.cer"}
	if withOCSP {
		lt.OCSPServer = []string{base + "/ocsp"}
	}
	p.leaf = issue(t, lt, p.ica, nil)
	return onlinePKI{p, base}
}

func crlDER(t *testing.T, issuer *node, thisUpdate, nextUpdate time.Time, revoked ...*x509.Certificate) []byte {
	t.Helper()
	return crlOf(t, issuer, thisUpdate, nextUpdate, revoked...).Raw
}

// ocspAnswer signs a response for req with status, by signer (nil: the
// issuer itself).
func ocspAnswer(t *testing.T, issuer, signer *node, status int, thisUpdate, nextUpdate time.Time) func(*ocsp.Request) []byte {
	return func(req *ocsp.Request) []byte {
		tpl := ocsp.Response{SerialNumber: req.SerialNumber, IssuerHash: req.HashAlgorithm, Status: status,
			ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
		if status == ocsp.Revoked {
			tpl.RevokedAt, tpl.RevocationReason = thisUpdate, ocsp.KeyCompromise
		}
		s := issuer
		if signer != nil {
			s, tpl.Certificate = signer, signer.cert
		}
		der, err := ocsp.CreateResponse(issuer.cert, s.cert, tpl, s.key)
		if err != nil {
			t.Error(err)
		}
		return der
	}
}

func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func onlineOpts(p onlinePKI) ChainOptions {
	o := p.opts()
	o.Revocation = RevocationEndCert
	o.Fetcher = &HTTPFetcher{}
	o.URLTimeout, o.TotalTimeout = 2*time.Second, 3*time.Second
	return o
}

func attemptsOf(r *ChainResult) string {
	var s []string
	for _, a := range r.Elements[0].Revocation.Attempts {
		s = append(s, a.Kind+":"+a.Result)
	}
	return strings.Join(s, ",")
}

func TestOnlineRevocation(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, true)
	fresh := func(revoked ...*x509.Certificate) []byte {
		return crlDER(t, p.ica, at.Add(-time.Hour), at.Add(7*24*time.Hour), revoked...)
	}
	ot := caTmpl("Contoso Issuing") // same name and key identifier, another key
	ot.SubjectKeyId = p.ica.cert.SubjectKeyId
	other := issue(t, ot, p.root, nil)
	responder := func(eku ...x509.ExtKeyUsage) *node {
		rt := leafTmpl("Contoso OCSP")
		rt.ExtKeyUsage = eku
		return issue(t, rt, p.ica, nil)
	}
	okWindow := [2]time.Time{at.Add(-time.Hour), at.Add(24 * time.Hour)}
	cases := []struct {
		name     string
		crl      []byte
		ocsp     func(*ocsp.Request) []byte
		reason   Reason
		attempts string
		detail   string
	}{
		{"ocsp_good", nil, ocspAnswer(t, p.ica, nil, ocsp.Good, okWindow[0], okWindow[1]), "", "ocsp:good", ""},
		{"ocsp_good_delegated", nil, ocspAnswer(t, p.ica, responder(x509.ExtKeyUsageOCSPSigning), ocsp.Good, okWindow[0], okWindow[1]), "", "ocsp:good", ""},
		{"ocsp_revoked", fresh(), ocspAnswer(t, p.ica, nil, ocsp.Revoked, okWindow[0], okWindow[1]), ReasonRevoked, "ocsp:revoked", "according to OCSP"},
		{"ocsp_unknown_falls_back_to_crl", fresh(), ocspAnswer(t, p.ica, nil, ocsp.Unknown, okWindow[0], okWindow[1]), "", "ocsp:unknown,crl:good", ""},
		{"ocsp_unknown_crl_revoked", fresh(p.leaf.cert), ocspAnswer(t, p.ica, nil, ocsp.Unknown, okWindow[0], okWindow[1]), ReasonRevoked, "ocsp:unknown,crl:revoked", "by CRL #7"},
		{"ocsp_expired_crl_good", fresh(), ocspAnswer(t, p.ica, nil, ocsp.Good, at.Add(-48*time.Hour), at.Add(-24*time.Hour)), "", "ocsp:invalid,crl:good", ""},
		{"ocsp_delegated_without_eku", nil, ocspAnswer(t, p.ica, responder(x509.ExtKeyUsageServerAuth), ocsp.Good, okWindow[0], okWindow[1]), ReasonRevocationOffline, "ocsp:invalid,crl:offline", "lacks the ocspSigning EKU"},
		{"ocsp_delegated_by_other_ca", nil, ocspAnswer(t, p.ica, issue(t, leafTmpl("Rogue OCSP"), other, nil), ocsp.Good, okWindow[0], okWindow[1]), ReasonRevocationOffline, "ocsp:invalid,crl:offline", "is not signed by"},
		{"ocsp_signed_by_other_key", nil, ocspAnswer(t, other, nil, ocsp.Good, okWindow[0], okWindow[1]), ReasonRevocationOffline, "ocsp:invalid,crl:offline", "issuer name or key hash of another CA"},
		{"ocsp_try_later", fresh(), func(*ocsp.Request) []byte { return ocsp.TryLaterErrorResponse }, "", "ocsp:invalid,crl:good", ""},
		{"crl_good", fresh(), nil, "", "ocsp:invalid,crl:good", ""},
		{"crl_revoked", fresh(p.leaf.cert), nil, ReasonRevoked, "ocsp:invalid,crl:revoked", "revoked at"},
		{"crl_expired", crlDER(t, p.ica, at.Add(-8*24*time.Hour), at.Add(-time.Hour)), nil, ReasonRevocationOffline, "ocsp:invalid,crl:invalid", "expired: nextUpdate"},
		{"crl_wrong_key", crlDER(t, other, at.Add(-time.Hour), at.Add(time.Hour)), nil, ReasonRevocationOffline, "ocsp:invalid,crl:invalid", "signature does not verify"},
		{"crl_not_der", []byte("-----BEGIN X509 CRL-----\n"), nil, ReasonRevocationOffline, "ocsp:invalid,crl:invalid", "not a DER CRL"},
		{"crl_404", nil, nil, ReasonRevocationOffline, "ocsp:invalid,crl:offline", "HTTP 404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv.mu.Lock()
			srv.files = map[string][]byte{}
			if tc.crl != nil {
				srv.files["/crl/ica.crl"] = tc.crl
			}
			srv.ocsp = tc.ocsp
			if tc.ocsp == nil {
				srv.ocsp = func(*ocsp.Request) []byte { return ocsp.UnauthorizedErrorResponse }
			}
			srv.mu.Unlock()
			r, err := Chain(p.leaf.cert, onlineOpts(p))
			if tc.reason == "" {
				wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
			} else {
				win := map[Reason]WindowsError{ReasonRevoked: WinRevoked, ReasonRevocationOffline: WinRevocationOffline}[tc.reason]
				wantErr(t, r, err, tc.reason, win, tc.detail)
			}
			if got := attemptsOf(r); got != tc.attempts {
				t.Fatalf("attempts %s, want %s: %+v", got, tc.attempts, r.Elements[0].Revocation.Attempts)
			}
			if tc.reason == ReasonRevocationOffline && (!r.Status.Has(TrustIsOfflineRevocation|TrustRevocationStatusUnknown) || r.Error.Windows.WinHTTP != 12057) {
				t.Fatalf("status %v windows %v", r.Status, r.Error.Windows)
			}
		})
	}
}

// The result JSON records every URL tried with its method and outcome, as
// CAPI2's revocation result does.
func TestOnlineRevocationJSON(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, true)
	srv.ocsp = ocspAnswer(t, p.ica, nil, ocsp.Unknown, at.Add(-time.Hour), at.Add(time.Hour))
	srv.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour)))
	r, err := Chain(p.leaf.cert, onlineOpts(p))
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	b, err := json.Marshal(r.Elements[0].Revocation)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"status":"good"`, `"source":"crl"`, `"url":"` + srv.URL + `/crl/ica.crl"`,
		`{"kind":"ocsp","url":"` + srv.URL + `/ocsp","method":"GET","result":"unknown"`, `"kind":"crl"`, `"duration_ms":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

// A server that refuses connections is revocation offline, 0x80092013 /
// 12057, as on Windows.
func TestOnlineRevocationServerDown(t *testing.T) {
	p := newOnlinePKI(t, closedURL(t), true)
	r, err := Chain(p.leaf.cert, onlineOpts(p))
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "the revocation server is offline")
	if got := attemptsOf(r); got != "ocsp:offline,crl:offline" || r.Error.Windows.HRESULT != 0x80092013 {
		t.Fatalf("attempts %s, %v", got, r.Error.Windows)
	}
	if !strings.Contains(r.Error.Detail, "refused") {
		t.Fatalf("detail %q does not say the connection was refused", r.Error.Detail)
	}
}

// A server slower than the per-URL timeout is offline; the accumulative
// timeout stops the retrievals that follow.
func TestOnlineRevocationTimeouts(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, true)
	srv.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour)))
	srv.ocsp = ocspAnswer(t, p.ica, nil, ocsp.Good, at.Add(-time.Hour), at.Add(time.Hour))
	srv.delay = 2 * time.Second

	o := onlineOpts(p)
	o.URLTimeout, o.TotalTimeout = 100*time.Millisecond, time.Second
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "per-URL timeout")
	if got := attemptsOf(r); got != "ocsp:offline,crl:offline" {
		t.Fatalf("attempts %s", got)
	}

	o.URLTimeout, o.TotalTimeout = 150*time.Millisecond, 150*time.Millisecond
	r, err = Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "accumulative revocation timeout is spent")
	if got := attemptsOf(r); got != "ocsp:offline,crl:not_fetched" {
		t.Fatalf("attempts %s", got)
	}
}

// A CRL over the size limit is offline with the reason; a supplied CRL
// answers without any fetch; ldap:// and https:// CDPs are not fetched.
func TestOnlineRevocationLimitsAndSources(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, false)
	good := crlOf(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour))
	srv.set("/crl/ica.crl", good.Raw)

	o := onlineOpts(p)
	o.MaxCRLBytes = 64
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "exceeds the size limit")

	before := srv.count("crl")
	o = onlineOpts(p)
	o.CRLs = []*x509.RevocationList{good}
	r, err = Chain(p.leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if srv.count("crl") != before || len(r.Elements[0].Revocation.Attempts) != 0 {
		t.Fatalf("a supplied CRL was fetched anyway: %d hits, %+v", srv.count("crl")-before, r.Elements[0].Revocation)
	}

	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.CRLDistributionPoints = []string{"ldap:///CN=Contoso%20Issuing,CN=CDP,DC=contoso,DC=com?certificateRevocationList", "https://pki.contoso.com/ica.crl"}
	ldapLeaf := issue(t, lt, p.ica, nil)
	r, err = Chain(ldapLeaf.cert, onlineOpts(p))
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "ldap:// is not fetched")
	if got := attemptsOf(r); got != "crl:not_fetched,crl:not_fetched" {
		t.Fatalf("attempts %s", got)
	}
}

// The issuing CA is checked against the root's CRL when the whole chain is
// checked; each URL is fetched once even when several paths are tried.
func TestOnlineRevocationWholeChain(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, false)
	it := caTmpl("Contoso Issuing")
	it.CRLDistributionPoints = []string{srv.URL + "/crl/root.crl"}
	ica := issue(t, it, p.root, p.ica.key) // same key: the leaf still chains
	srv.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour)))
	srv.set("/crl/root.crl", crlDER(t, p.root, at.Add(-time.Hour), at.Add(time.Hour), ica.cert))
	o := onlineOpts(p)
	o.Intermediates = []*x509.Certificate{ica.cert}
	o.Revocation = RevocationChainExcludeRoot
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonRevoked, WinRevoked, "CN=Contoso Root")
	if r.Elements[0].Revocation.Status != RevGood || r.Elements[1].Revocation.Status != RevRevoked || r.Elements[2].Revocation != nil {
		t.Fatalf("revocation %+v %+v", r.Elements[0].Revocation, r.Elements[1].Revocation)
	}
	if srv.count("crl") != 2 {
		t.Fatalf("%d CRL fetches, want 2", srv.count("crl"))
	}
}

// A ChainContext that is cancelled fetches nothing more: offline.
func TestOnlineRevocationCancelled(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, false)
	srv.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := ChainContext(ctx, p.leaf.cert, onlineOpts(p))
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "canceled")
}

func TestRevocationOffNotice(t *testing.T) {
	p := newPKI(t)
	r, err := Chain(p.leaf.cert, p.opts())
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if len(r.Notices) != 1 || r.Notices[0].Code != "revocation_off" || r.Notices[0].Level != "notice" ||
		!strings.Contains(r.Notices[0].Message, "/NoCRLCheck only carries ccmsetup through bootstrap") ||
		!strings.Contains(r.Notices[0].Source, "cmg-reference.md") {
		t.Fatalf("notices %+v", r.Notices)
	}
	o := p.opts()
	o.Revocation, o.CRLs = RevocationEndCert, []*x509.RevocationList{crlOf(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour))}
	if r, _ := Chain(p.leaf.cert, o); len(r.Notices) != 0 {
		t.Fatalf("notices with revocation on: %+v", r.Notices)
	}
}

// With AIAFetch, a missing intermediate is downloaded from the caIssuers URL
// and the chain is marked complete only through AIA; without it the chain is
// partial.
func TestAIAFetch(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, false)
	srv.set("/ca/ica.cer", p.ica.cert.Raw)
	o := onlineOpts(p)
	o.Intermediates, o.Revocation = nil, RevocationOff
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonPartialChain, WinChaining, "no issuer found")
	if srv.count("ca") != 0 {
		t.Fatal("AIA fetched without AIAFetch")
	}
	o.AIAFetch = true
	r, err = Chain(p.leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if len(r.Warnings) != 1 || r.Warnings[0].Code != "complete_only_through_aia" || !strings.Contains(r.Warnings[0].Message, srv.URL+"/ca/ica.cer") {
		t.Fatalf("warnings %+v", r.Warnings)
	}
	if len(r.AIA) != 1 || r.AIA[0].Result != "fetched" || r.AIA[0].Detail != "CN=Contoso Issuing" {
		t.Fatalf("aia %+v", r.AIA)
	}
	// The intermediate supplied: no fetch, no warning.
	o.Intermediates = []*x509.Certificate{p.ica.cert}
	before := srv.count("ca")
	r, err = Chain(p.leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if srv.count("ca") != before || len(r.Warnings) != 0 || len(r.AIA) != 0 {
		t.Fatalf("fetched %d, warnings %+v", srv.count("ca")-before, r.Warnings)
	}
	// An AIA URL that serves garbage leaves the chain partial and says why.
	srv.set("/ca/ica.cer", []byte("not a certificate"))
	o.Intermediates = nil
	r, err = Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonPartialChain, WinChaining, "no issuer found")
	if len(r.AIA) != 1 || r.AIA[0].Result != "invalid" {
		t.Fatalf("aia %+v", r.AIA)
	}
}

func TestHTTPFetcher(t *testing.T) {
	srv := newRevServer(t)
	srv.set("/big", make([]byte, 1000))
	var mu sync.Mutex
	var ua string
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ua = r.Header.Get("User-Agent")
		mu.Unlock()
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, srv.URL+"/big", http.StatusFound)
		case "/to-https":
			http.Redirect(w, r, "https://127.0.0.1:1/x.crl", http.StatusFound)
		}
	}))
	defer redir.Close()
	f := &HTTPFetcher{}
	ctx := context.Background()
	if b, err := f.Fetch(ctx, srv.URL+"/big", 1000); err != nil || len(b) != 1000 {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if _, err := f.Fetch(ctx, srv.URL+"/big", 999); err == nil || !strings.Contains(err.Error(), "exceeds the size limit") {
		t.Fatalf("err = %v", err)
	}
	b, err := f.Fetch(ctx, redir.URL+"/to-http", 1000)
	mu.Lock()
	gotUA := ua
	mu.Unlock()
	if err != nil || len(b) != 1000 || gotUA != CryptoAPIUserAgent {
		t.Fatalf("%d bytes, %v, user agent %q", len(b), err, gotUA)
	}
	if _, err := f.Fetch(ctx, redir.URL+"/to-https", 1000); err == nil || !strings.Contains(err.Error(), "only http:// is followed") {
		t.Fatalf("err = %v", err)
	}
}

// TestOnlineRevocationFetchedAt: answers fetched online are judged fresh at
// the moment they were fetched (FetchedAt), as a client judges what it just
// got, while the certificates are judged at At; CRLs supplied offline are
// judged at At. Without FetchedAt, an answer fetched today is "offline" at a
// later At.
func TestOnlineRevocationFetchedAt(t *testing.T) {
	srv := newRevServer(t)
	later := at.Add(40 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		withOCSP bool
		attempts string
	}{
		{"ocsp", true, "ocsp:good"},
		{"crl", false, "crl:good"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newOnlinePKI(t, srv.URL, tc.withOCSP)
			srv.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(7*24*time.Hour)))
			srv.mu.Lock()
			srv.ocsp = ocspAnswer(t, p.ica, nil, ocsp.Good, at.Add(-time.Hour), at.Add(24*time.Hour))
			srv.mu.Unlock()
			o := onlineOpts(p)
			o.At, o.FetchedAt = later, at
			r, err := Chain(p.leaf.cert, o)
			wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
			if got := attemptsOf(r); got != tc.attempts {
				t.Fatalf("attempts %s, want %s", got, tc.attempts)
			}
			// The same answers judged at At (no FetchedAt): expired.
			o.FetchedAt = time.Time{}
			r, err = Chain(p.leaf.cert, o)
			wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "nextUpdate")
		})
	}
	t.Run("supplied_crl_judged_at_At", func(t *testing.T) {
		p := newOnlinePKI(t, closedURL(t), false)
		o := p.opts()
		o.Revocation = RevocationEndCert
		o.CRLs = []*x509.RevocationList{crlOf(t, p.ica, at.Add(-time.Hour), at.Add(7*24*time.Hour))}
		o.At, o.FetchedAt = later, at
		r, err := Chain(p.leaf.cert, o)
		wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "expired: nextUpdate")
	})
}
