package verify

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
)

// OID is an ASN.1 object identifier, as used for extended key usages.
type OID = asn1.ObjectIdentifier

// Common extended key usages, for ChainOptions.Usages.
var (
	EKUServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	EKUClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	EKUAny        = asn1.ObjectIdentifier{2, 5, 29, 37, 0}
)

// ParseUsage reads an EKU given as serverAuth, clientAuth or a dotted OID.
func ParseUsage(s string) (asn1.ObjectIdentifier, error) {
	switch strings.ToLower(s) {
	case "serverauth", "server":
		return EKUServerAuth, nil
	case "clientauth", "client":
		return EKUClientAuth, nil
	}
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(s, ".") {
		var n int
		if _, err := fmt.Sscanf(part, "%d", &n); err != nil || fmt.Sprint(n) != part || n < 0 {
			return nil, fmt.Errorf("verify: usage %q: not serverAuth, clientAuth or a dotted OID", s)
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("verify: usage %q: not serverAuth, clientAuth or a dotted OID", s)
	}
	return oid, nil
}

// RevocationMode says which elements Chain checks for revocation.
type RevocationMode int

// Revocation modes, after CERT_CHAIN_REVOCATION_CHECK_* of
// CertGetCertificateChain. The root is never checked, as on Windows.
const (
	RevocationOff              RevocationMode = iota // no revocation checking (the zero value)
	RevocationEndCert                                // the leaf only
	RevocationChainExcludeRoot                       // every element but the trust anchor
)

// Policy says which rule book Chain applies where Windows CryptoAPI and
// RFC 5280 differ. The only difference today is a missing authority key
// identifier.
type Policy int

// Policies.
const (
	// PolicyWindows (the zero value, used by the verify commands) judges as
	// CryptoAPI does: a certificate without an authority key identifier is
	// accepted (CryptoAPI builds the chain by issuer name when there is no
	// AKI) and carries the warning aki_missing. Real Entra (WPJ) device
	// certificates have no AKI (cmg-reference.md §4).
	PolicyWindows Policy = iota
	// PolicyRFC5280 is strict RFC 5280: a certificate that is not
	// self-signed and has no authority key identifier is malformed (RFC 5280
	// 4.2.1.1). The public path-validation suites run with it.
	PolicyRFC5280
)

func (p Policy) String() string {
	if p == PolicyRFC5280 {
		return "rfc5280"
	}
	return "windows"
}

// DefaultMaxDepth is the maximum path length when ChainOptions.MaxDepth is 0.
const DefaultMaxDepth = 10

// maxPaths bounds the number of complete paths evaluated, so that a hostile
// set of cross-signed intermediates cannot make path building exponential.
const maxPaths = 64

// ChainOptions are the inputs of Chain.
type ChainOptions struct {
	// Roots is the client's local root store: only what the user gives.
	// Any certificate in Roots ends a path (a trust anchor), self-signed or
	// not.
	Roots []*x509.Certificate
	// Intermediates is the untrusted pool paths may use.
	Intermediates []*x509.Certificate
	// At is the evaluation time. Required: Chain never reads the clock.
	At time.Time
	// FetchedAt is when the OCSP and CDP answers Fetcher retrieves are
	// fetched: their freshness (thisUpdate, nextUpdate) and a delegated
	// OCSP responder's validity are judged at that moment, as a client
	// judges the answer it just got, while certificates are judged at At.
	// Zero means At. Supplied CRLs (CRLs) are judged at At.
	FetchedAt time.Time
	// Usages are the EKUs the leaf must be valid for. Each must be allowed by
	// every element of the path, explicitly or by an absent EKU extension
	// (CryptoAPI's AND usage matching). Empty means any usage.
	Usages []asn1.ObjectIdentifier
	// KeyUsage bits the leaf must allow when it has a key usage extension.
	KeyUsage x509.KeyUsage
	// Name is the expected DNS name or IP address of the leaf; empty skips
	// the name check.
	Name string
	// Names are further expected names (an MP's intranet and internet
	// FQDN), each checked as Name is; the leaf must be valid for all.
	Names []string
	// MaxDepth is the maximum number of elements of a path, leaf and anchor
	// included, self-issued intermediates not counted. Zero means
	// DefaultMaxDepth.
	MaxDepth int
	// CRLs are offline CRLs, consulted first like the CRLs a client holds
	// in its cache: a usable one answers without fetching anything.
	CRLs []*x509.RevocationList
	// Revocation selects the elements checked for revocation. With a mode
	// other than RevocationOff, an element without a definite answer is
	// "revocation offline" (CRYPT_E_REVOCATION_OFFLINE), as on a client that
	// cannot reach the CDP. RevocationOff adds a notice to the result: a
	// ConfigMgr client checks by default.
	Revocation RevocationMode
	// SkipLeafRevocation leaves the leaf out of the revocation check (the
	// other elements are checked as Revocation says): for a role whose
	// relying parties do not check revocation, such as an Entra (WPJ)
	// device certificate. Its element has no RevocationResult.
	SkipLeafRevocation bool
	// Fetcher retrieves OCSP, CDP and AIA URLs. Nil means nothing is
	// fetched: only CRLs answers. With a Fetcher, an element that no supplied
	// CRL answers is checked online as CryptoAPI does: every http:// OCSP
	// URL of the AIA, then every http:// CDP URL (ldap:// and https:// are
	// reported as not fetched).
	Fetcher Fetcher
	// URLTimeout bounds one retrieval; zero means DefaultURLTimeout (15 s,
	// as Windows).
	URLTimeout time.Duration
	// TotalTimeout bounds the sum of all revocation retrievals of one Chain
	// call (Windows' accumulative timeout); zero means DefaultTotalTimeout
	// (20 s). Past it, the remaining URLs are not fetched.
	TotalTimeout time.Duration
	// MaxCRLBytes and MaxOCSPBytes bound fetched responses; zero means
	// DefaultMaxCRLBytes (10 MiB) and DefaultMaxOCSPBytes (64 KiB). A larger
	// response is revocation offline.
	MaxCRLBytes, MaxOCSPBytes int64
	// AIAFetch downloads missing issuers from the caIssuers URLs of the AIA
	// (http:// only, through Fetcher), as Windows does by default and other
	// clients do not. A chain that needs them carries the warning
	// complete_only_through_aia.
	AIAFetch bool
	// RejectSHA1 refuses SHA-1 signed elements, as Windows does in chains
	// under the roots of the Microsoft Trusted Root Program. The default
	// (false) is Windows' behaviour under enterprise roots: "manually
	// installed enterprise or self-signed SHA-1 certificates will not be
	// impacted" (Windows blog, 2016-11-18). MD5 is always refused.
	RejectSHA1 bool
	// Policy selects Windows (the zero value) or strict RFC 5280 judgement
	// where the two differ: see Policy.
	Policy Policy
}

// Element is one certificate of a chain with its trust status, as CAPI2
// event 11 records it.
type Element struct {
	Subject    string            `json:"subject"`
	Issuer     string            `json:"issuer"`
	Serial     string            `json:"serial"`
	Thumbprint string            `json:"thumbprint_sha1"`
	NotBefore  time.Time         `json:"not_before"`
	NotAfter   time.Time         `json:"not_after"`
	TrustedAs  string            `json:"trusted_as,omitempty"` // "root" for the trust anchor
	Status     TrustStatus       `json:"trust_status"`
	Problems   []string          `json:"problems,omitempty"`
	Revocation *RevocationResult `json:"revocation,omitempty"`
	Cert       *x509.Certificate `json:"-"`
}

// Warning is a finding that does not fail the chain, typically a point where
// Windows accepts what other clients refuse.
type Warning struct {
	Code    string `json:"code"`
	Level   string `json:"level,omitempty"` // empty: warn; "notice" in ChainResult.Notices
	Message string `json:"message"`
	Source  string `json:"source,omitempty"`
}

// NameCheck is the result of matching ChainOptions.Name.
type NameCheck struct {
	Name      string `json:"name"`
	Matched   bool   `json:"matched"`
	MatchedBy string `json:"matched_by,omitempty"` // dns_san, ip_san, cn_fallback
	Detail    string `json:"detail,omitempty"`
}

// ChainResult is the chain Chain chose (the first valid path or, when there
// is none, the path with the fewest problems) and its verdict.
type ChainResult struct {
	At       time.Time   `json:"at"`
	Trusted  bool        `json:"trusted"`
	Elements []Element   `json:"elements"`
	Status   TrustStatus `json:"trust_status"`
	// Name is the check of the first expected name that does not match,
	// else of the first name; Names holds the check of every name
	// (ChainOptions.Name, then Names) when more than one was given.
	Name     *NameCheck  `json:"name,omitempty"`
	Names    []NameCheck `json:"names,omitempty"`
	Warnings []Warning   `json:"warnings,omitempty"`
	// Notices are informational: no effect on the verdict.
	Notices []Warning `json:"notices,omitempty"`
	// AIA lists the caIssuers URLs fetched (ChainOptions.AIAFetch).
	AIA []Retrieval `json:"aia_fetches,omitempty"`
	// Rejected explains every other candidate path or issuer tried.
	Rejected []string    `json:"rejected,omitempty"`
	Error    *ChainError `json:"error,omitempty"`
}

// NoticeRevocationOff is the notice of a chain checked with RevocationOff.
var NoticeRevocationOff = Warning{Code: "revocation_off", Level: "notice",
	Message: "revocation not checked: a ConfigMgr client checks it before every HTTPS connection by default; " +
		"/NoCRLCheck only carries ccmsetup through bootstrap; the site's setting governs after the next security settings refresh",
	Source: "cmg-reference.md §5 [PROPS][WF-2019]; cmg-failures.md F03"}

// Chain builds and checks the chain of leaf as a Windows client would. It
// returns the result and, when the leaf is not trusted for the requested use,
// a *ChainError that is also in the result. Other errors (a zero At) are
// plain errors and the result is nil.
//
// Chain fetches nothing unless ChainOptions.Fetcher is set; see
// ChainContext.
func Chain(leaf *x509.Certificate, opts ChainOptions) (*ChainResult, error) {
	return ChainContext(context.Background(), leaf, opts)
}

// ChainContext is Chain with a context for the retrievals of
// ChainOptions.Fetcher (OCSP, CDP, AIA); cancelling it makes the
// remaining retrievals fail (revocation offline).
func ChainContext(ctx context.Context, leaf *x509.Certificate, opts ChainOptions) (*ChainResult, error) {
	if leaf == nil {
		return nil, errors.New("verify: no leaf certificate")
	}
	if opts.At.IsZero() {
		return nil, errors.New("verify: ChainOptions.At is required")
	}
	b := newBuilder(leaf, opts)
	b.ctx = ctx
	b.search([]*x509.Certificate{leaf})
	best := b.best
	res := &ChainResult{At: opts.At, Rejected: b.rejected}
	for i, c := range best.path {
		e := Element{
			Subject: certio.DN(c.RawSubject), Issuer: certio.DN(c.RawIssuer),
			Serial: serialHex(c), Thumbprint: thumbprint(c),
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			Status: best.status[i], Problems: best.problems[i], Cert: c,
		}
		if i == len(best.path)-1 && best.anchored {
			e.TrustedAs = "root"
		}
		if best.rev != nil {
			e.Revocation = best.rev[i]
		}
		res.Elements = append(res.Elements, e)
		res.Status |= best.status[i]
	}
	res.Warnings = append(res.Warnings, best.warnings...)
	var viaAIA []string
	for _, c := range best.path {
		if u, ok := b.aia[c]; ok {
			viaAIA = append(viaAIA, displayName(c)+" from "+u)
		}
	}
	if len(viaAIA) > 0 {
		res.Warnings = append(res.Warnings, Warning{Code: "complete_only_through_aia",
			Message: "the chain is complete only through AIA fetching (" + strings.Join(viaAIA, "; ") +
				"): Windows fetches missing issuers, other clients do not; install the intermediate or send it with the certificate",
			Source: "windows-trust.md §1"})
	}
	res.AIA = b.aiaLog
	if opts.Revocation == RevocationOff {
		res.Notices = append(res.Notices, NoticeRevocationOff)
	}
	res.checkNames(leaf, opts.expectedNames())
	res.Error = best.chainError(res)
	if res.Error != nil && len(res.Rejected) > 0 {
		res.Error.Rejected = res.Rejected
	}
	res.Trusted = res.Error == nil
	if res.Error != nil {
		return res, res.Error
	}
	return res, nil
}

// fetchedAt is the time fetched revocation answers are judged at.
func (o ChainOptions) fetchedAt() time.Time {
	if o.FetchedAt.IsZero() {
		return o.At
	}
	return o.FetchedAt
}

// expectedNames are Name and Names, without empty and repeated names.
func (o ChainOptions) expectedNames() []string {
	var out []string
	for _, n := range append([]string{o.Name}, o.Names...) {
		if n != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// checkNames matches every expected name against the leaf: Name is the
// first mismatch (the one ChainError reports), else the first name.
func (res *ChainResult) checkNames(leaf *x509.Certificate, names []string) {
	for _, n := range names {
		nc := matchName(leaf, n)
		res.Names = append(res.Names, nc)
		if nc.Matched && nc.MatchedBy == "cn_fallback" {
			res.Warnings = append(res.Warnings, Warning{Code: "cn_fallback", Message: fmt.Sprintf("%q matches only the subject CN (no DNS name in the SAN): Windows accepts the CN; other clients do not", n)})
		}
	}
	for i := range res.Names {
		if res.Name == nil || res.Name.Matched && !res.Names[i].Matched {
			nc := res.Names[i]
			res.Name = &nc
		}
	}
	if len(res.Names) < 2 {
		res.Names = nil // Name says it all
	}
}

// NameMismatches returns the checks of the expected names that do not
// match the leaf, in the order given.
func (res *ChainResult) NameMismatches() []NameCheck {
	checks := res.Names
	if checks == nil && res.Name != nil {
		checks = []NameCheck{*res.Name}
	}
	var out []NameCheck
	for _, nc := range checks {
		if !nc.Matched {
			out = append(out, nc)
		}
	}
	return out
}

// path is one evaluated candidate path.
type path struct {
	path     []*x509.Certificate
	anchored bool
	status   []TrustStatus
	problems [][]string
	reasons  [][]Reason // parallel to problems
	rev      []*RevocationResult
	warnings []Warning
	score    int
}

func (p *path) add(i int, f TrustStatus, r Reason, format string, args ...any) {
	p.status[i] |= f
	p.problems[i] = append(p.problems[i], fmt.Sprintf(format, args...))
	p.reasons[i] = append(p.reasons[i], r)
}

var reasonOrder = []Reason{ReasonMalformed, ReasonBadSignature, ReasonPartialChain, ReasonUntrustedRoot,
	ReasonTooDeep, ReasonBasicConstraints, ReasonNameConstraints, ReasonInvalidExtension, ReasonExpired,
	ReasonNotYetValid, ReasonRevoked, ReasonWrongUsage, ReasonRevocationOffline, ReasonNoRevocationCheck}

func (p *path) chainError(res *ChainResult) *ChainError {
	for _, r := range reasonOrder {
		// Within a reason, the element nearest the leaf is reported.
		for i := range p.path {
			for k, rr := range p.reasons[i] {
				if rr == r {
					c := p.path[i]
					return &ChainError{Reason: r, Cert: c, Subject: certio.DN(c.RawSubject),
						Detail: p.problems[i][k], Windows: r.Windows(), Fix: r.Fix()}
				}
			}
		}
	}
	if res.Name != nil && !res.Name.Matched {
		c := p.path[0]
		return &ChainError{Reason: ReasonNameMismatch, Cert: c, Subject: certio.DN(c.RawSubject),
			Detail: res.Name.Detail, Windows: WinNameMismatch, Fix: ReasonNameMismatch.Fix()}
	}
	return nil
}

func (p *path) describe() string {
	names := make([]string, len(p.path))
	for i, c := range p.path {
		names[i] = displayName(c)
	}
	var probs []string
	for i := range p.path {
		for _, s := range p.problems[i] {
			probs = append(probs, displayName(p.path[i])+": "+s)
		}
	}
	return fmt.Sprintf("path [%s]: %s", strings.Join(names, " <- "), strings.Join(probs, ", "))
}

type sigKey struct{ child, parent *x509.Certificate }

type sigResult struct {
	weak bool
	err  error
}

type builder struct {
	leaf     *x509.Certificate
	opts     ChainOptions
	roots    []*x509.Certificate
	pool     []*x509.Certificate
	sigs     map[sigKey]sigResult
	info     map[*x509.Certificate]*certInfo
	best     *path
	done     bool
	paths    int
	rejected []string
	// online checking (nil net: nothing is fetched)
	ctx      context.Context
	net      *online
	revs     map[sigKey]*RevocationResult
	aia      map[*x509.Certificate]string // certificates fetched from caIssuers URLs
	aiaTried map[string]bool
	aiaLog   []Retrieval
}

func newBuilder(leaf *x509.Certificate, opts ChainOptions) *builder {
	b := &builder{leaf: leaf, opts: opts, sigs: map[sigKey]sigResult{}, info: map[*x509.Certificate]*certInfo{},
		ctx: context.Background(), net: newOnline(opts), revs: map[sigKey]*RevocationResult{},
		aia: map[*x509.Certificate]string{}, aiaTried: map[string]bool{}}
	seen := map[string]bool{}
	for _, c := range opts.Roots {
		if c != nil && !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			b.roots = append(b.roots, c)
			b.pool = append(b.pool, c)
		}
	}
	for _, c := range opts.Intermediates {
		if c != nil && !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			b.pool = append(b.pool, c)
		}
	}
	if b.opts.MaxDepth <= 0 {
		b.opts.MaxDepth = DefaultMaxDepth
	}
	return b
}

func (b *builder) isRoot(c *x509.Certificate) bool {
	for _, r := range b.roots {
		if bytes.Equal(r.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func (b *builder) certInfo(c *x509.Certificate) *certInfo {
	if ci, ok := b.info[c]; ok {
		return ci
	}
	ci := parseCertInfo(c)
	b.info[c] = ci
	return ci
}

func (b *builder) sig(child, parent *x509.Certificate) sigResult {
	k := sigKey{child, parent}
	if r, ok := b.sigs[k]; ok {
		return r
	}
	weak, err := checkSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature, parent)
	r := sigResult{weak, err}
	b.sigs[k] = r
	return r
}

func (b *builder) reject(format string, args ...any) {
	if len(b.rejected) < 32 {
		b.rejected = append(b.rejected, fmt.Sprintf(format, args...))
	}
}

// issuers returns the candidate issuers of c: the subject name equals c's
// issuer name and, where both are present, the SKI equals c's AKI key
// identifier. Trusted roots and certificates valid at At come first.
func (b *builder) issuers(c *x509.Certificate) []*x509.Certificate {
	if b.opts.AIAFetch && b.net != nil && len(c.IssuingCertificateURL) > 0 && !b.hasIssuer(c) {
		b.fetchAIA(c)
	}
	var out []*x509.Certificate
	for _, p := range b.pool {
		if !bytes.Equal(p.RawSubject, c.RawIssuer) {
			continue
		}
		if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
			b.reject("%s: candidate issuer %s: subject key identifier %X does not match the authority key identifier %X",
				displayName(c), displayName(p), p.SubjectKeyId, c.AuthorityKeyId)
			continue
		}
		out = append(out, p)
	}
	at := b.opts.At
	rank := func(p *x509.Certificate) int {
		r := 0
		if !b.isRoot(p) {
			r += 1
		}
		if !timeValid(p, at) {
			r += 2
		}
		return r
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// hasIssuer reports whether the pool holds a certificate that may have
// issued c (name and key identifier).
func (b *builder) hasIssuer(c *x509.Certificate) bool {
	for _, p := range b.pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) &&
			(len(c.AuthorityKeyId) == 0 || len(p.SubjectKeyId) == 0 || bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId)) {
			return true
		}
	}
	return false
}

// search extends path depth-first; it stops at the first path without
// problems and otherwise keeps the best one.
func (b *builder) search(chain []*x509.Certificate) {
	if b.done {
		return
	}
	cur := chain[len(chain)-1]
	if b.isRoot(cur) {
		b.consider(b.evaluate(chain, true))
		return
	}
	extended := false
	if len(chain) <= 2*b.opts.MaxDepth+2 {
		for _, cand := range b.issuers(cur) {
			if b.done || b.paths >= maxPaths {
				return
			}
			if inChain(chain, cand) {
				if !bytes.Equal(cand.Raw, cur.Raw) {
					b.reject("%s: issuer %s already in the path (loop)", displayName(cur), displayName(cand))
				}
				continue
			}
			if r := b.sig(cur, cand); r.err != nil {
				b.reject("%s: candidate issuer %s: %v", displayName(cur), displayName(cand), r.err)
				continue
			}
			extended = true
			next := make([]*x509.Certificate, len(chain), len(chain)+1)
			copy(next, chain)
			b.search(append(next, cand))
		}
	}
	if !extended {
		b.consider(b.evaluate(chain, false))
	}
}

func (b *builder) consider(p *path) {
	b.paths++
	if b.best == nil || p.score < b.best.score {
		if b.best != nil {
			b.reject("%s", b.best.describe())
		}
		b.best = p
	} else {
		b.reject("%s", p.describe())
	}
	if p.score == 0 {
		b.done = true
	}
}

func inChain(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func timeValid(c *x509.Certificate, at time.Time) bool {
	t := at.Truncate(time.Second)
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

func isSelfIssued(c *x509.Certificate) bool { return bytes.Equal(c.RawSubject, c.RawIssuer) }

func serialHex(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(c.SerialNumber.Text(16))
}

func thumbprint(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

func displayName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	if s := certio.DN(c.RawSubject); s != "" {
		return s
	}
	return "(empty subject, serial " + serialHex(c) + ")"
}
