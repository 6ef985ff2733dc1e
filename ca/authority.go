package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"

	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// Authority is a CA that can issue: its certificate, the certificates above
// it (up to and including the root) and its signing key.
type Authority struct {
	Name    string              // CA name, used in URLs and file names
	Role    profiles.Role       // root-ca, issuing-ca or wpj-ca
	Cert    *x509.Certificate   // the CA certificate
	Parents []*x509.Certificate // issuer chain above Cert, root last; empty for a root
	Signer  crypto.Signer
	BaseURL string // base of the URLs baked into what it issues (layout.For)
}

// URLs returns the revocation and AIA URLs of this CA.
func (a *Authority) URLs() layout.URLs { return layout.For(a.BaseURL, a.Name) }

// Chain returns the certificates a leaf of this CA needs after itself:
// intermediates first, root last.
func (a *Authority) Chain() []*x509.Certificate {
	return append([]*x509.Certificate{a.Cert}, a.Parents...)
}

// Request is one certificate to issue.
type Request struct {
	Profile    *profiles.Profile
	CommonName string
	DNSNames   []string
	// RawSubject, when set, replaces the subject built from CommonName
	// (the WPJ CA's multi-valued RDN).
	RawSubject []byte
	PublicKey  crypto.PublicKey
	Serial     *big.Int
	NotBefore  time.Time
	// NotAfter zero means NotBefore plus the recipe's default validity.
	NotAfter time.Time
	// Recipe is what to issue on top of the requirement; nil means the
	// role's (RecipeFor).
	Recipe *Recipe
	// WPJ identity for wpj-device certificates.
	WPJ *profiles.WPJIdentity
	// UserTemplate is an optional x509util template applied on top of the
	// profile (see ApplyUserTemplate).
	UserTemplate string
}

// LintError is returned when a certificate's own profile rejects it; nothing
// was signed.
type LintError struct {
	Role    profiles.Role
	Subject string
	Report  lint.Report
}

func (e *LintError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ca: refusing to sign %s certificate %q: its profile forbids it", e.Role, e.Subject)
	for _, r := range e.Report.AtLeast(lint.Error) {
		fmt.Fprintf(&b, "\n  %s: %s (%s)", r.Rule, r.Details, r.Citation)
	}
	return b.String()
}

// buildTemplate turns a request into a template, without signing.
func (a *Authority) buildTemplate(req Request) (*x509.Certificate, error) {
	p := req.Profile
	rc, err := req.recipe()
	if err != nil {
		return nil, err
	}
	if req.Serial == nil || req.Serial.Sign() <= 0 {
		return nil, errors.New("ca: request has no positive serial")
	}
	if req.NotBefore.IsZero() {
		return nil, errors.New("ca: request has no notBefore (x509util sets no default validity)")
	}
	notAfter := req.NotAfter
	if notAfter.IsZero() {
		notAfter = req.NotBefore.Add(rc.Validity)
	}
	tpl := &x509.Certificate{
		SerialNumber: req.Serial,
		Subject:      pkix.Name{CommonName: req.CommonName},
		RawSubject:   req.RawSubject,
		DNSNames:     req.DNSNames,
		NotBefore:    req.NotBefore.UTC().Truncate(time.Second),
		NotAfter:     notAfter.UTC().Truncate(time.Second),
		PublicKey:    req.PublicKey,
	}
	if err := p.Apply(tpl); err != nil {
		return nil, err
	}
	var u *layout.URLs
	if a != nil {
		x := a.URLs()
		u = &x
	}
	rc.apply(tpl, p, u)
	if a != nil {
		if tpl.NotAfter.After(a.Cert.NotAfter) {
			return nil, fmt.Errorf("ca: %s certificate %q would expire %s, after its issuer %s (%s)",
				p.Role, req.CommonName, tpl.NotAfter.Format(time.RFC3339), a.Name, a.Cert.NotAfter.Format(time.RFC3339))
		}
	}
	switch p.Role {
	case profiles.WPJDevice:
		if req.WPJ == nil {
			return nil, errors.New("ca: wpj-device request needs a WPJ identity")
		}
		exts, err := profiles.WPJExtensions(*req.WPJ)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, exts...)
	case profiles.OCSPSigner:
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: profiles.OIDOCSPNoCheck, Value: []byte{0x05, 0x00}})
	}
	if req.UserTemplate != "" {
		if err := ApplyUserTemplate(tpl, req.UserTemplate, p); err != nil {
			return nil, err
		}
	}
	return tpl, nil
}

// Throwaway issuer keys for lint-before-sign; generated once per process.
var (
	throwawayOnce sync.Once
	throwawayKey  crypto.Signer
	throwawayErr  error
)

func throwaway() (crypto.Signer, error) {
	throwawayOnce.Do(func() { throwawayKey, throwawayErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	return throwawayKey, throwawayErr
}

// Precheck lints the certificate req would produce, signed by a throwaway
// key under the same issuer name, and returns a *LintError if the profile
// rejects it.
func (a *Authority) Precheck(req Request, env lint.Env) (*x509.Certificate, error) {
	tpl, err := a.buildTemplate(req)
	if err != nil {
		return nil, err
	}
	return tpl, lintTBS(tpl, a, req, env)
}

func lintTBS(tpl *x509.Certificate, a *Authority, req Request, env lint.Env) error {
	key, err := throwaway()
	if err != nil {
		return fmt.Errorf("ca: throwaway lint key: %w", err)
	}
	parent := tpl
	signPub := req.PublicKey
	if a != nil {
		p := *a.Cert
		p.PublicKey = key.Public()
		if rc, _ := req.recipe(); rc != nil && rc.OmitKeyIDs {
			p.SubjectKeyId = nil
		}
		parent = &p
	} else {
		// A self-signed certificate is linted as signed by the throwaway key.
		p := *tpl
		p.PublicKey = key.Public()
		parent = &p
	}
	t := *tpl
	t.SignatureAlgorithm = 0
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, signPub, key)
	if err != nil {
		return fmt.Errorf("ca: building %s certificate for lint: %w", req.Profile.Role, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("ca: parsing lint certificate: %w", err)
	}
	_, err = lintResult(c, req.Profile, env)
	return err
}

// lintResult lints a certificate against its profile: a *LintError when
// the profile rejects it, else the notices and warnings (nil when none).
func lintResult(c *x509.Certificate, p *profiles.Profile, env lint.Env) ([]lint.Result, error) {
	rep := profiles.Lint(c, p, env)
	if rep.Max() >= lint.Error {
		name := c.Subject.CommonName
		if name == "" {
			name = c.Subject.String()
		}
		return nil, &LintError{Role: p.Role, Subject: name, Report: rep}
	}
	var out []lint.Result
	for _, r := range rep.Results {
		if r.Status == lint.Notice || r.Status == lint.Warn {
			out = append(out, r)
		}
	}
	return out, nil
}

// Issue lints and signs req. signer is this CA's key for leaves and
// intermediates; for a self-signed root, call SelfSign. Notices and
// warnings of the lint are dropped; IssueFindings returns them.
func (a *Authority) Issue(ctx context.Context, req Request, env lint.Env) (*x509.Certificate, error) {
	c, _, err := a.IssueFindings(ctx, req, env)
	return c, err
}

// IssueFindings is Issue that also returns the lint's notices and warnings
// on the signed certificate (nil when none).
func (a *Authority) IssueFindings(ctx context.Context, req Request, env lint.Env) (*x509.Certificate, []lint.Result, error) {
	tpl, err := a.Precheck(req, env)
	if err != nil {
		return nil, nil, err
	}
	parent := a.Cert
	if rc, _ := req.recipe(); rc != nil && rc.OmitKeyIDs {
		p := *a.Cert
		p.SubjectKeyId = nil // no AKI, as on real WPJ device certificates
		parent = &p
	}
	cert, err := sign(ctx, tpl, parent, a.Signer)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: %s signing %s certificate %q: %w", a.Name, req.Profile.Role, req.CommonName, err)
	}
	// What was signed is linted again: the throwaway signature could hide a
	// real issuer's algorithm problem.
	findings, err := lintResult(cert, req.Profile, env)
	if err != nil {
		return nil, nil, err
	}
	return cert, findings, nil
}

// SelfSign lints and creates a self-signed CA certificate for key.
// Notices and warnings are dropped; SelfSignFindings returns them.
func SelfSign(ctx context.Context, req Request, key crypto.Signer, env lint.Env) (*x509.Certificate, error) {
	c, _, err := SelfSignFindings(ctx, req, key, env)
	return c, err
}

// SelfSignFindings is SelfSign that also returns the lint's notices and
// warnings (nil when none).
func SelfSignFindings(ctx context.Context, req Request, key crypto.Signer, env lint.Env) (*x509.Certificate, []lint.Result, error) {
	if !req.Profile.IsCA {
		return nil, nil, fmt.Errorf("ca: profile %s is not a CA profile", req.Profile.Role)
	}
	req.PublicKey = key.Public()
	var none *Authority
	tpl, err := none.buildTemplate(req)
	if err != nil {
		return nil, nil, err
	}
	if err := lintTBS(tpl, nil, req, env); err != nil {
		return nil, nil, err
	}
	cert, err := sign(ctx, tpl, tpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("ca: self-signing %s %q: %w", req.Profile.Role, req.CommonName, err)
	}
	findings, err := lintResult(cert, req.Profile, env)
	if err != nil {
		return nil, nil, err
	}
	return cert, findings, nil
}

// sign goes through smallstep's CAS interface (softcas), which signs with
// the given key through x509util. It always receives explicit validity dates.
func sign(ctx context.Context, tpl, parent *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	cas, err := softcas.New(ctx, apiv1.Options{CertificateChain: []*x509.Certificate{parent}, Signer: key})
	if err != nil {
		return nil, err
	}
	resp, err := cas.CreateCertificate(&apiv1.CreateCertificateRequest{
		Template: tpl,
		Lifetime: tpl.NotAfter.Sub(tpl.NotBefore),
	})
	if err != nil {
		return nil, err
	}
	return resp.Certificate, nil
}
