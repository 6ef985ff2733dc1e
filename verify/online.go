package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
)

// Windows' retrieval limits (sdk-api certgetcertificatechain,
// windows-trust.md §1): 15 s per URL and, with
// CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT, 20 s for all revocation
// retrievals of one chain.
const (
	DefaultURLTimeout   = 15 * time.Second
	DefaultTotalTimeout = 20 * time.Second
	// DefaultMaxCRLBytes bounds a fetched CRL.
	DefaultMaxCRLBytes = 10 << 20
	// DefaultMaxOCSPBytes bounds a fetched OCSP response.
	DefaultMaxOCSPBytes = 64 << 10
	// maxAIABytes bounds a fetched caIssuers certificate (or bundle).
	maxAIABytes = 1 << 20
)

// Retrieval is one URL a chain check used or considered: an OCSP request, a
// CDP download or an AIA caIssuers download, as CAPI2 records URL retrieval
// in its revocation and chain events.
type Retrieval struct {
	Kind   string `json:"kind"`             // ocsp, crl, aia
	URL    string `json:"url"`              // the URL from the certificate
	Method string `json:"method,omitempty"` // GET (OCSP as RFC 5019 GET); empty when not fetched
	// Result is good, revoked or unknown (what an OCSP response or CRL
	// said), invalid (fetched but unusable), offline (no answer, an HTTP
	// error or too large), not_fetched (a URL a client does not fetch, or
	// the accumulative timeout spent) or fetched (AIA).
	Result     string `json:"result"`
	Detail     string `json:"detail,omitempty"`
	Bytes      int    `json:"bytes,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Cached     bool   `json:"cached,omitempty"` // fetched earlier in the same check
}

func (r Retrieval) String() string {
	s := fmt.Sprintf("%s %s: %s", strings.ToUpper(r.Kind), r.URL, r.Result)
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}

// online is the network side of one Chain call.
type online struct {
	f          Fetcher
	urlTimeout time.Duration
	total      time.Duration
	spent      time.Duration // revocation retrievals so far (accumulative)
	maxCRL     int64
	maxOCSP    int64
	clk        clock.Clock
	cache      map[string]fetched
}

type fetched struct {
	data []byte
	err  error
}

func newOnline(o ChainOptions) *online {
	if o.Fetcher == nil {
		return nil
	}
	n := &online{f: o.Fetcher, urlTimeout: o.URLTimeout, total: o.TotalTimeout, maxCRL: o.MaxCRLBytes,
		maxOCSP: o.MaxOCSPBytes, clk: clock.Real{}, cache: map[string]fetched{}}
	if n.urlTimeout <= 0 {
		n.urlTimeout = DefaultURLTimeout
	}
	if n.total <= 0 {
		n.total = DefaultTotalTimeout
	}
	if n.maxCRL <= 0 {
		n.maxCRL = DefaultMaxCRLBytes
	}
	if n.maxOCSP <= 0 {
		n.maxOCSP = DefaultMaxOCSPBytes
	}
	return n
}

// fetch retrieves u once per Chain call. Revocation retrievals share the
// accumulative budget; AIA retrievals have only the per-URL timeout, as on
// Windows. The returned Retrieval has Method, Bytes, DurationMS and Cached
// set, and Result "offline" or "not_fetched" on error.
func (b *builder) fetch(kind, u, reqURL string, max int64) ([]byte, Retrieval, error) {
	n := b.net
	att := Retrieval{Kind: kind, URL: u}
	if c, ok := n.cache[reqURL]; ok {
		att.Method, att.Cached, att.Bytes = "GET", true, len(c.data)
		if c.err != nil {
			att.Result, att.Detail = "offline", c.err.Error()
		}
		return c.data, att, c.err
	}
	timeout := n.urlTimeout
	revocation := kind != "aia"
	if revocation {
		left := n.total - n.spent
		if left <= 0 {
			err := fmt.Errorf("not fetched: the %v accumulative revocation timeout is spent", n.total)
			att.Result, att.Detail = "not_fetched", err.Error()
			return nil, att, err
		}
		timeout = min(timeout, left)
	}
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	start := n.clk.Now()
	data, err := n.f.Fetch(ctx, reqURL, max)
	d := n.clk.Now().Sub(start)
	if revocation {
		n.spent += d
	}
	att.Method, att.DurationMS, att.Bytes = "GET", d.Milliseconds(), len(data)
	if err != nil && ctx.Err() == context.DeadlineExceeded && b.ctx.Err() == nil {
		if timeout < n.urlTimeout {
			err = fmt.Errorf("no answer within the %v left of the %v accumulative timeout: %w", timeout, n.total, err)
		} else {
			err = fmt.Errorf("no answer within the %v per-URL timeout: %w", timeout, err)
		}
	}
	if err != nil {
		att.Result, att.Detail = "offline", err.Error()
		data = nil
	}
	n.cache[reqURL] = fetched{data, err}
	return data, att, err
}

// revocation returns the revocation result of cert under issuer, once per
// pair and Chain call.
func (b *builder) revocation(cert, issuer *x509.Certificate) *RevocationResult {
	k := sigKey{cert, issuer}
	if r, ok := b.revs[k]; ok {
		return r
	}
	r := b.checkRevocation(cert, issuer)
	b.revs[k] = r
	return r
}

// checkRevocation follows CryptoAPI's order (cmg-reference.md §5 [REVOKE]):
// the CRLs the client already holds (ChainOptions.CRLs, like the URL cache
// and store), then every OCSP URL of the AIA, then every CDP URL. The first
// definite answer (good or revoked) decides. An OCSP "unknown" moves on to
// the next URL and the CDP (UNCONFIRMED: no source states what CryptoAPI does
// with "unknown"; falling back to the CRL is the conservative reading).
func (b *builder) checkRevocation(cert, issuer *x509.Certificate) *RevocationResult {
	at := b.opts.At
	r := checkCRLs(cert, issuer, b.opts.CRLs, at)
	if r.Status == RevUnknown && noRevocationPointer(cert, issuer, b.opts.CRLs) {
		return &RevocationResult{Status: RevNoCheck, Detail: fmt.Sprintf(
			"%s has no CRL distribution point and no OCSP URL, and no CRL of %s was supplied: its revocation cannot be checked",
			displayName(cert), displayName(issuer))}
	}
	if r.Status != RevUnknown || b.net == nil {
		return r
	}
	var atts []Retrieval
	decided := func(res *RevocationResult) *RevocationResult {
		res.Attempts = atts
		return res
	}
	for _, u := range cert.OCSPServer {
		att, res := b.ocspCheck(cert, issuer, u)
		atts = append(atts, att)
		if res != nil {
			return decided(res)
		}
	}
	for _, u := range cert.CRLDistributionPoints {
		att, res := b.cdpCheck(cert, issuer, u)
		atts = append(atts, att)
		if res != nil {
			return decided(res)
		}
	}
	var d string
	switch {
	case len(atts) == 0:
		d = fmt.Sprintf("%s has no OCSP or CDP URL and no CRL of %s was supplied: revocation cannot be checked", displayName(cert), displayName(issuer))
	default:
		parts := make([]string, len(atts))
		for i, a := range atts {
			parts[i] = a.String()
		}
		d = fmt.Sprintf("no usable revocation answer for %s from %s: the revocation server is offline (%s)", displayName(cert), displayName(issuer), strings.Join(parts, "; "))
	}
	for _, rl := range b.opts.CRLs {
		if rl != nil && bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
			d += "; supplied CRLs: " + r.Detail
			break
		}
	}
	return &RevocationResult{Status: RevUnknown, Detail: d, Attempts: atts}
}

// noRevocationPointer reports whether cert gives a client nothing to check
// its revocation with: no CDP and no OCSP URL (of any scheme: Windows tries
// ldap:// too, so an unfetchable pointer is "offline", not this) and no
// supplied CRL of issuer. CryptoAPI's revocation provider then returns
// CRYPT_E_NO_REVOCATION_CHECK with CERT_TRUST_REVOCATION_STATUS_UNKNOWN but
// without CERT_TRUST_IS_OFFLINE_REVOCATION.
func noRevocationPointer(cert, issuer *x509.Certificate, crls []*x509.RevocationList) bool {
	if len(cert.CRLDistributionPoints) > 0 || len(cert.OCSPServer) > 0 {
		return false
	}
	for _, rl := range crls {
		if rl != nil && bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
			return false
		}
	}
	return true
}

// cdpCheck fetches one CDP URL and applies the offline CRL checks to it.
func (b *builder) cdpCheck(cert, issuer *x509.Certificate, u string) (Retrieval, *RevocationResult) {
	if ok, why := fetchable(u); !ok {
		return Retrieval{Kind: "crl", URL: u, Result: "not_fetched", Detail: why}, nil
	}
	data, att, err := b.fetch("crl", u, u, b.net.maxCRL)
	if err != nil {
		return att, nil
	}
	rl, err := x509.ParseRevocationList(data)
	if err != nil {
		att.Result, att.Detail = "invalid", fmt.Sprintf("not a DER CRL: %v", err)
		return att, nil
	}
	if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
		att.Result, att.Detail = "invalid", fmt.Sprintf("CRL issuer %q is not the certificate's issuer %q", certio.DN(rl.RawIssuer), certio.DN(issuer.RawSubject))
		return att, nil
	}
	if err := usableCRL(rl, cert, issuer, b.opts.fetchedAt()); err != nil {
		att.Result, att.Detail = "invalid", fmt.Sprintf("CRL %s: %v", crlLabel(rl), err)
		return att, nil
	}
	res := crlVerdict(rl, cert, issuer)
	res.URL = u
	att.Result, att.Detail = string(res.Status), "CRL "+crlLabel(rl)
	return att, res
}

// ocspCheck asks one OCSP responder, with an RFC 5019 GET as CryptoAPI does.
func (b *builder) ocspCheck(cert, issuer *x509.Certificate, u string) (Retrieval, *RevocationResult) {
	if ok, why := fetchable(u); !ok {
		return Retrieval{Kind: "ocsp", URL: u, Result: "not_fetched", Detail: why}, nil
	}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return Retrieval{Kind: "ocsp", URL: u, Result: "not_fetched", Detail: fmt.Sprintf("building the request: %v", err)}, nil
	}
	get := strings.TrimSuffix(u, "/") + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req))
	data, att, err := b.fetch("ocsp", u, get, b.net.maxOCSP)
	if err != nil {
		return att, nil
	}
	resp, err := ocsp.ParseResponseForCert(data, cert, nil)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			att.Result, att.Detail = "invalid", fmt.Sprintf("responder answered %q", re.Status.String())
		} else {
			att.Result, att.Detail = "invalid", fmt.Sprintf("unusable OCSP response: %v", err)
		}
		return att, nil
	}
	signer, err := checkOCSP(resp, cert, issuer, b.opts.fetchedAt())
	if err != nil {
		att.Result, att.Detail = "invalid", err.Error()
		return att, nil
	}
	res := &RevocationResult{Source: "ocsp", URL: u, Responder: certio.DN(signer.RawSubject),
		ThisUpdate: tp(resp.ThisUpdate), NextUpdate: tp(resp.NextUpdate)}
	switch resp.Status {
	case ocsp.Good:
		res.Status, res.Detail = RevGood, fmt.Sprintf("OCSP good from %s", u)
	case ocsp.Revoked:
		t := resp.RevokedAt.UTC()
		res.Status, res.RevokedAt, res.ReasonCode = RevRevoked, &t, resp.RevocationReason
		res.Detail = fmt.Sprintf("revoked at %s (reason %d) according to OCSP %s", t.Format(timeFmt), resp.RevocationReason, u)
	default:
		att.Result, att.Detail = "unknown", "the responder does not know the certificate; trying the next URL"
		return att, nil
	}
	att.Result = string(res.Status)
	return att, res
}

var oidOCSPSigning = "1.3.6.1.5.5.7.3.9"

// checkOCSP checks what ParseResponseForCert leaves open: the signer is the
// issuer or a delegated responder (ocspSigning EKU) the issuer issued
// (RFC 6960 4.2.2.2; CAPI2 accepts delegated OCSP signers, cmg-reference.md
// §5), the responder ID names the signer, the CertID is the certificate's,
// and the response is current at at. It returns the signer.
func checkOCSP(resp *ocsp.Response, cert, issuer *x509.Certificate, at time.Time) (*x509.Certificate, error) {
	if err := matchCertID(resp.TBSResponseData, cert, issuer); err != nil {
		return nil, err
	}
	signer := issuer
	if rc := resp.Certificate; rc != nil && !bytes.Equal(rc.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo) {
		// ParseResponseForCert verified the response under rc's key.
		if !bytes.Equal(rc.RawIssuer, issuer.RawSubject) {
			return nil, fmt.Errorf("delegated responder %s is issued by %q, not by the certificate's issuer", displayName(rc), certio.DN(rc.RawIssuer))
		}
		if _, err := checkSignature(rc.SignatureAlgorithm, rc.RawTBSCertificate, rc.Signature, issuer); err != nil {
			return nil, fmt.Errorf("delegated responder %s is not signed by %s: %v", displayName(rc), displayName(issuer), err)
		}
		ok := false
		for _, e := range rc.ExtKeyUsage {
			ok = ok || e == x509.ExtKeyUsageOCSPSigning
		}
		if !ok {
			return nil, fmt.Errorf("delegated responder %s lacks the ocspSigning EKU (%s)", displayName(rc), oidOCSPSigning)
		}
		if !timeValid(rc, at) {
			return nil, fmt.Errorf("delegated responder %s is not valid at %s", displayName(rc), at.UTC().Format(timeFmt))
		}
		signer = rc
	} else if rc == nil {
		if _, err := checkSignature(resp.SignatureAlgorithm, resp.TBSResponseData, resp.Signature, issuer); err != nil {
			return nil, fmt.Errorf("response signature does not verify with %s's key and no responder certificate is included: %v", displayName(issuer), err)
		}
	}
	if len(resp.RawResponderName) > 0 && !bytes.Equal(resp.RawResponderName, signer.RawSubject) {
		return nil, fmt.Errorf("responder ID names %q, not the signer %s", certio.DN(resp.RawResponderName), displayName(signer))
	}
	if len(resp.ResponderKeyHash) > 0 {
		h := sha1.Sum(spkBits(signer))
		if !bytes.Equal(resp.ResponderKeyHash, h[:]) {
			return nil, fmt.Errorf("responder ID key hash %X is not the signer %s's key", resp.ResponderKeyHash, displayName(signer))
		}
	}
	t := at.Truncate(time.Second)
	if t.Before(resp.ThisUpdate) {
		return nil, fmt.Errorf("response not yet valid: thisUpdate %s", resp.ThisUpdate.UTC().Format(timeFmt))
	}
	if !resp.NextUpdate.IsZero() && t.After(resp.NextUpdate) {
		return nil, fmt.Errorf("response expired: nextUpdate %s", resp.NextUpdate.UTC().Format(timeFmt))
	}
	return signer, nil
}

// spkBits returns the subjectPublicKey BIT STRING contents of c.
func spkBits(c *x509.Certificate) []byte {
	in := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var spki, alg cryptobyte.String
	var bits asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) {
		return nil
	}
	return bits.RightAlign()
}

var hashByOID = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

// matchCertID checks that a SingleResponse of the ResponseData names cert:
// its serial, and the hashes of the issuer's name and key (RFC 6960 4.1.1).
// x/crypto/ocsp matches the serial only.
func matchCertID(tbs []byte, cert, issuer *x509.Certificate) error {
	bad := errors.New("malformed OCSP ResponseData")
	in := cryptobyte.String(tbs)
	var rd, responses, skip cryptobyte.String
	var tag cbasn1.Tag
	if !in.ReadASN1(&rd, cbasn1.SEQUENCE) ||
		!rd.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!rd.ReadAnyASN1(&skip, &tag) || // responderID
		!rd.SkipASN1(cbasn1.GeneralizedTime) || // producedAt
		!rd.ReadASN1(&responses, cbasn1.SEQUENCE) {
		return bad
	}
	serialSeen := false
	for !responses.Empty() {
		var single, certID, alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		var nameHash, keyHash []byte
		serial := new(big.Int)
		if !responses.ReadASN1(&single, cbasn1.SEQUENCE) || !single.ReadASN1(&certID, cbasn1.SEQUENCE) ||
			!certID.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
			!certID.ReadASN1Bytes(&nameHash, cbasn1.OCTET_STRING) || !certID.ReadASN1Bytes(&keyHash, cbasn1.OCTET_STRING) ||
			!certID.ReadASN1Integer(serial) {
			return bad
		}
		if serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		serialSeen = true
		h, ok := hashByOID[oid.String()]
		if !ok || !h.Available() {
			continue
		}
		hn := h.New()
		hn.Write(issuer.RawSubject)
		hk := h.New()
		hk.Write(spkBits(issuer))
		if bytes.Equal(nameHash, hn.Sum(nil)) && bytes.Equal(keyHash, hk.Sum(nil)) {
			return nil
		}
	}
	if serialSeen {
		return fmt.Errorf("the response's CertID has serial %s but the issuer name or key hash of another CA than %s", serialHex(cert), displayName(issuer))
	}
	return fmt.Errorf("no response for serial %s", serialHex(cert))
}

// fetchAIA downloads the caIssuers certificates of c (http:// only) into the
// untrusted pool, as Windows does when an issuer is missing.
func (b *builder) fetchAIA(c *x509.Certificate) {
	for _, u := range c.IssuingCertificateURL {
		if b.aiaTried[u] {
			continue
		}
		b.aiaTried[u] = true
		if ok, why := fetchable(u); !ok {
			b.aiaLog = append(b.aiaLog, Retrieval{Kind: "aia", URL: u, Result: "not_fetched", Detail: why})
			continue
		}
		data, att, err := b.fetch("aia", u, u, maxAIABytes)
		if err == nil {
			certs, perr := certio.ParseCertificates(data)
			if perr != nil || len(certs) == 0 {
				att.Result, att.Detail = "invalid", fmt.Sprintf("not a DER or PEM certificate: %v", perr)
			} else {
				att.Result = "fetched"
				var names []string
				for _, nc := range certs {
					names = append(names, displayName(nc))
					if !inChain(b.pool, nc) {
						b.pool = append(b.pool, nc)
						b.aia[nc] = u
					}
				}
				att.Detail = strings.Join(names, ", ")
			}
		}
		b.aiaLog = append(b.aiaLog, att)
	}
}
