package verify

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// ReportSchema is the schema of Report and ReportSet; fields are only ever
// added within v1.
const ReportSchema = "cmgpki/verify/v1"

// Report is the result of one check (one certificate file, one endpoint,
// one CRL or one client selection) as the verify commands print it: what
// was read, which profile judged it and why, the chain with CAPI2-like
// trust flags and revocation results, and every finding, merged from the
// chain verdict, the profile's rules and the input itself.
type Report struct {
	Schema string `json:"schema"`
	// Kind is cert, endpoint, crl or client-selection.
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Input says what was read (a file, or the URL of an endpoint or a
	// CRL); nil for a client selection.
	Input *Input `json:"input,omitempty"`
	// Profile is the role the certificate was judged as; nil for a CRL and
	// a client selection.
	Profile *ProfileChoice `json:"profile,omitempty"`
	// CMVersion is the site version (YYMM) the rules judged for; absent
	// for the latest.
	CMVersion   int              `json:"cm_version,omitempty"`
	Certificate *CertSummary     `json:"certificate,omitempty"`
	Chain       *ChainResult     `json:"chain,omitempty"`
	Endpoint    *EndpointInfo    `json:"endpoint,omitempty"`
	CRL         *CRLReport       `json:"crl,omitempty"`
	Selection   *SelectionResult `json:"selection,omitempty"`
	Findings    []Finding        `json:"findings"`
	MaxLevel    string           `json:"max_level"` // fatal, error, warn, notice or pass
	Counts      map[string]int   `json:"counts"`    // findings per level
	leaf        *x509.Certificate
}

// ReportSet is the JSON document of a verify command: always this shape,
// whether one input or many was checked.
type ReportSet struct {
	Schema  string    `json:"schema"`
	Command string    `json:"command"` // cert, endpoint, crl, client-selection
	Reports []*Report `json:"reports"`
	Summary Summary   `json:"summary"`
}

// Summary counts the findings of a ReportSet and says whether the command
// failed at its threshold.
type Summary struct {
	Inputs   int            `json:"inputs"`
	Counts   map[string]int `json:"counts"`
	MaxLevel string         `json:"max_level"`
	FailOn   string         `json:"fail_on"`
	Failed   bool           `json:"failed"`
}

// Input is what a report read.
type Input struct {
	File   string        `json:"file,omitempty"`
	URL    string        `json:"url,omitempty"`
	Format certio.Format `json:"format,omitempty"`
	// Certificates is the number of certificates in the file.
	Certificates int `json:"certificates,omitempty"`
	// PFX is the protection of a PKCS#12 file.
	PFX *certio.PFXInfo `json:"pfx,omitempty"`
	// HasKey says a private key came with the certificate (in the file or
	// with --key); KeyMatches whether it belongs to the certificate.
	HasKey     bool   `json:"has_key"`
	KeyFile    string `json:"key_file,omitempty"`
	KeyMatches *bool  `json:"key_matches,omitempty"`
}

// ProfileChoice is the role a certificate was judged as.
type ProfileChoice struct {
	// Name is a profile name, or "none" when only the chain, names,
	// validity and revocation were checked.
	Name string `json:"name"`
	// How is given (--profile NAME), auto (inferred) or none.
	How string `json:"how"`
	// Reason says why auto chose Name.
	Reason string `json:"reason,omitempty"`
	// Usages are the EKUs required through the chain.
	Usages []string `json:"usages,omitempty"`
}

// CertSummary names the certificate a report judged.
type CertSummary struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	Serial     string    `json:"serial"`
	Thumbprint string    `json:"thumbprint_sha1"`
	NotBefore  time.Time `json:"not_before"`
	NotAfter   time.Time `json:"not_after"`
	DNSNames   []string  `json:"dns_names,omitempty"`
	EKU        []string  `json:"eku,omitempty"`
	IsCA       bool      `json:"is_ca"`
}

// EndpointInfo is what a TLS endpoint negotiated and presented; the chain
// and the findings are in the report.
type EndpointInfo struct {
	URL                 string          `json:"url"`
	Host                string          `json:"host"`
	Address             string          `json:"address"`
	TLSVersion          string          `json:"tls_version,omitempty"`
	CipherSuite         string          `json:"cipher_suite,omitempty"`
	ALPN                string          `json:"alpn,omitempty"`
	ClientCertRequested bool            `json:"client_cert_requested"`
	ClientCertSent      bool            `json:"client_cert_sent"`
	Presented           []PresentedCert `json:"presented,omitempty"`
	SentIntermediates   bool            `json:"sent_intermediates"`
}

// Finding origins, in Finding.Origin.
const (
	OriginInput     = "input"
	OriginChain     = "chain"
	OriginProfile   = "profile"
	OriginEndpoint  = "endpoint"
	OriginCRL       = "crl"
	OriginSelection = "selection"
)

// Leaf returns the certificate the report judged (nil for a CRL).
func (r *Report) Leaf() *x509.Certificate { return r.leaf }

// Max is the highest level among the findings (lint.Pass when none).
func (r *Report) Max() lint.Status { return maxLevel(r.Findings) }

// finish merges the findings that report one problem twice (mergeDuplicates),
// sorts them (most severe first, then by origin order as added) and fills
// MaxLevel and Counts.
func (r *Report) finish() *Report {
	r.Findings = mergeDuplicates(r.Findings, r.leaf, r.At)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].Level > r.Findings[j].Level })
	r.MaxLevel = levelName(r.Max())
	r.Counts = countLevels(r.Findings)
	return r
}

func (r *Report) add(origin string, fs ...Finding) {
	for _, f := range fs {
		if f.Origin == "" {
			f.Origin = origin
		}
		r.Findings = append(r.Findings, fromCatalogue(f))
	}
}

// levelName is the JSON and table name of a level: fatal (a rule could
// not run), error, warn, notice, or pass when there is no finding.
func levelName(s lint.Status) string {
	if s <= lint.Pass {
		return "pass"
	}
	return s.String()
}

func countLevels(fs []Finding) map[string]int {
	m := map[string]int{"fatal": 0, "error": 0, "warn": 0, "notice": 0}
	for _, f := range fs {
		m[levelName(f.Level)]++
	}
	return m
}

// NewReportSet wraps reports in the document a verify command prints and
// fills its summary; failOn is the --fail-on threshold.
func NewReportSet(command string, reports []*Report, failOn lint.Status) *ReportSet {
	s := &ReportSet{Schema: ReportSchema, Command: command, Reports: reports}
	if s.Reports == nil {
		s.Reports = []*Report{}
	}
	s.Summary = Summary{Inputs: len(reports), Counts: countLevels(nil), FailOn: levelName(failOn)}
	max := lint.Pass
	for _, r := range reports {
		for k, v := range r.Counts {
			s.Summary.Counts[k] += v
		}
		if m := r.Max(); m > max {
			max = m
		}
	}
	s.Summary.MaxLevel = levelName(max)
	s.Summary.Failed = max >= failOn
	return s
}

// CertInput is one certificate file to check, as read by certio.
type CertInput struct {
	// Bundle is the file as read; its certificate of the key (a PFX) or its
	// first non-CA certificate is the one judged, the others are offered as
	// intermediates.
	Bundle *certio.Bundle
	// Key is a private key given separately (--key) and its file name.
	Key     crypto.Signer
	KeyFile string
}

// CertOptions are the inputs of CheckCertificate besides the file.
type CertOptions struct {
	// Chain options: Roots, Intermediates, At (required), Name, MaxDepth,
	// CRLs, Revocation, Fetcher, AIAFetch and the retrieval limits. Usages
	// are added to the profile's EKUs.
	ChainOptions
	// Profile is a profile name, "auto" (the empty string) or "none".
	Profile string
	// Env is the rule environment; its At defaults to ChainOptions.At.
	Env lint.Env
	// ExpectedNames are the FQDNs the certificate must carry (--name; an
	// MP's intranet and internet FQDN): the chain checks each as a client
	// connecting to that name does (ChainOptions.Names) and the profile's
	// rules check them too; a name the chain finds missing is reported
	// once, as chain_name_mismatch. ComputerName is the client's computer
	// name (--computer); empty: not checked.
	ExpectedNames []string
	ComputerName  string
	// Previous is the certificate a renewed one replaces (--previous): the
	// renewal rules compare the two. Nil: no comparison.
	Previous *x509.Certificate
	// CMGTrusted are the trusted root and intermediate certificates uploaded
	// to the CMG (--cmg-trusted): the chain of a PKI client certificate must
	// be covered by them (F16). Only PKI clients authenticate to the CMG
	// with a certificate (cmg-reference.md §1); for another role a notice
	// says the check does not apply. Nil: not checked.
	CMGTrusted []*x509.Certificate
}

// withChainRules merges the chain rules' findings with the chain's own,
// leaving out the chain's finding where a rule reports the same problem
// (an incomplete chain, a chain complete only through AIA).
func withChainRules(chain, rules []Finding) []Finding {
	dup := map[string]string{"e_chain_incomplete": "chain_partial_chain", "w_chain_complete_only_through_aia": "complete_only_through_aia"}
	drop := map[string]bool{}
	for _, f := range rules {
		if d, ok := dup[f.ID]; ok {
			drop[d] = true
		}
	}
	var out []Finding
	for _, f := range chain {
		if !drop[f.ID] {
			out = append(out, f)
		}
	}
	return append(out, rules...)
}

// CheckCertificate judges the certificate of in as a Windows client
// would: the chain (Chain), the role requirements of the chosen profile
// (profiles rules), and the input (PFX key, key match, PFX protection).
// It returns an error only when the check cannot run (bad options, no
// certificate); everything about the certificate is a finding.
func CheckCertificate(ctx context.Context, in CertInput, o CertOptions) (*Report, error) {
	b := in.Bundle
	if b == nil || len(b.Certs) == 0 {
		return nil, errors.New("verify: no certificate to check")
	}
	cand := CandidateFromBundle(b)
	leaf := cand.Cert
	rep := &Report{Schema: ReportSchema, Kind: "cert", At: o.At, leaf: leaf,
		Input: &Input{File: b.Name, Format: b.Format, Certificates: len(b.Certs), PFX: b.PFX, HasKey: b.Key != nil}}
	rep.Certificate = summarize(leaf)
	env := o.Env
	if env.At.IsZero() {
		env.At = o.At
	}
	rep.add(OriginInput, inputFindings(b, in, rep.Input, leaf, env)...)

	choice, p, err := ChooseProfile(leaf, o.Profile, false)
	if err != nil {
		return nil, err
	}
	co := o.ChainOptions
	co.Intermediates = append(append([]*x509.Certificate{}, cand.Intermediates...), o.Intermediates...)
	co.Usages = mergeUsages(profileUsages(p), o.Usages)
	co.Names = append(append([]string{}, co.Names...), o.ExpectedNames...)
	for _, u := range co.Usages {
		choice.Usages = append(choice.Usages, oidName(u))
	}
	rep.Profile = choice
	notice := roleRevocationNotice(p, co.Revocation)
	if notice != nil {
		co.SkipLeafRevocation = true
	}
	chain, cerr := ChainContext(ctx, leaf, co)
	if chain == nil {
		return nil, cerr
	}
	if notice != nil {
		chain.Notices = append(chain.Notices, *notice)
	}
	rep.Chain = chain
	rep.add(OriginChain, withChainRules(chainFindings(chain), CheckChainRules(chain, env))...)
	// Every expected name the leaf is not valid for is a chain_name_mismatch;
	// the chain's error reports the first one, unless another error comes
	// first.
	mismatched := chain.NameMismatches()
	for i, nc := range mismatched {
		if i == 0 && chain.Error != nil && chain.Error.Reason == ReasonNameMismatch {
			continue
		}
		win := WinNameMismatch
		rep.add(OriginChain, Finding{ID: "chain_" + string(ReasonNameMismatch), Level: lint.Error, Windows: &win,
			Message: chain.Elements[0].Subject + ": " + nc.Detail, Fix: ReasonNameMismatch.Fix(), Source: "windows-trust.md §2"})
	}
	rep.CMVersion = env.CMVersion
	if p != nil {
		names := namesNotIn(o.ExpectedNames, mismatched)
		fs := lintFindings(profiles.Subject{Cert: leaf, Profile: p, Chain: chainCerts(chain),
			ExpectedNames: names, ComputerName: o.ComputerName}, env)
		if len(names) == 0 && len(o.ExpectedNames) > 0 {
			// Every expected name is already a chain_name_mismatch.
			fs = slices.DeleteFunc(fs, func(f Finding) bool { return f.ID == "e_mp_fqdn_missing" })
		}
		rep.add(OriginProfile, fs...)
	}
	if o.Previous != nil {
		rep.add(OriginProfile, CompareRenewal(o.Previous, leaf, env)...)
	}
	if o.CMGTrusted != nil {
		if why := cmgTrustedNotApplicable(p, co.Usages); why != "" {
			rep.add(OriginChain, Finding{ID: "cmg_trusted_not_applicable", Level: lint.Notice,
				Message: "--cmg-trusted checks client chains; " + why + " does not authenticate to the CMG with a client certificate",
				Source:  "cmg-reference.md §1 (CMG trusted client roots: only for PKI client authentication); cmg-failures.md F16"})
		} else {
			rep.add(OriginChain, CheckCMGTrusted(o.CMGTrusted, [][]*x509.Certificate{chainCerts(chain)}, env)...)
		}
	}
	return rep.finish(), nil
}

// roleRevocationNotice returns the notice for a certificate whose role's
// relying parties do not check its revocation (profiles.RevocationSpec
// Checked false: a WPJ device certificate, a delegated OCSP responder), or
// nil when the leaf is checked as mode says. With a notice, the leaf is left
// out of the revocation check; the rest of the chain still is checked.
func roleRevocationNotice(p *profiles.Profile, mode RevocationMode) *Warning {
	if p == nil || p.Revocation.Checked || mode == RevocationOff || p.Role == profiles.RootCA {
		return nil // a root is never revocation-checked: nothing to say
	}
	why := p.Revocation.Note
	if why == "" {
		why = "its relying parties do not check it"
	}
	return &Warning{Code: "revocation_not_checked_for_role", Level: "notice",
		Message: fmt.Sprintf("revocation of this %s certificate not checked: %s; the rest of the chain is checked", p.Role, why),
		Source:  p.Revocation.Cite.String()}
}

// EndpointCheckOptions are the inputs of CheckEndpoint.
type EndpointCheckOptions struct {
	EndpointOptions
	// Profile is a server profile name, "auto" (the empty string: cmg-server
	// or mp-https by the presented certificate) or "none".
	Profile string
	Env     lint.Env
}

// CheckEndpoint runs Endpoint and judges the presented leaf with the
// server-role rules of the chosen profile. It returns the report and the
// *EndpointError of Endpoint when no TLS session was established (the
// report then holds the finding); other errors mean the check could not
// run and the report is nil.
func CheckEndpoint(ctx context.Context, o EndpointCheckOptions) (*Report, error) {
	res, err := Endpoint(ctx, o.EndpointOptions)
	if res == nil {
		return nil, err
	}
	rep := &Report{Schema: ReportSchema, Kind: "endpoint", At: o.At, Input: &Input{URL: o.URL}}
	rep.Endpoint = &EndpointInfo{URL: res.URL, Host: res.Host, Address: res.Address, TLSVersion: res.TLSVersion,
		CipherSuite: res.CipherSuite, ALPN: res.ALPN, ClientCertRequested: res.ClientCertRequested,
		ClientCertSent: res.ClientCertSent, Presented: res.Presented, SentIntermediates: res.SentIntermediates}
	rep.Chain = res.Chain
	for _, f := range res.Findings {
		origin := OriginEndpoint
		if strings.HasPrefix(f.ID, "chain_") || res.Chain != nil && isChainCode(res.Chain, f.ID) {
			origin = OriginChain
		}
		rep.add(origin, f)
	}
	var ee *EndpointError
	if errors.As(err, &ee) || res.Chain == nil {
		return rep.finish(), err
	}
	leaf := res.Chain.Elements[0].Cert
	rep.leaf = leaf
	rep.Certificate = summarize(leaf)
	choice, p, perr := ChooseProfile(leaf, o.Profile, true)
	if perr != nil {
		return nil, perr
	}
	choice.Usages = []string{oidName(EKUServerAuth)}
	rep.Profile = choice
	if p != nil {
		env := o.Env
		if env.At.IsZero() {
			env.At = o.At
		}
		rep.CMVersion = env.CMVersion
		rep.add(OriginProfile, lintFindings(profiles.Subject{Cert: leaf, Profile: p, Chain: chainCerts(res.Chain)}, env)...)
	}
	return rep.finish(), nil
}

func isChainCode(c *ChainResult, id string) bool {
	for _, w := range append(append([]Warning{}, c.Warnings...), c.Notices...) {
		if w.Code == id {
			return true
		}
	}
	return false
}

// CRLCheckReport wraps CheckCRL in a report; source is the file or URL.
func CRLCheckReport(crlDER []byte, issuer *x509.Certificate, at time.Time, source string, isURL bool) *Report {
	cr := CheckCRL(crlDER, issuer, at)
	rep := &Report{Schema: ReportSchema, Kind: "crl", At: at, CRL: cr, Input: &Input{Format: certio.FormatCRL}}
	if isURL {
		rep.Input.URL = source
	} else {
		rep.Input.File = source
	}
	rep.add(OriginCRL, cr.Findings...)
	return rep.finish()
}

// SelectionReport wraps SelectClientCertificate in a report: no selected
// certificate is an error finding (the client uses no PKI certificate);
// the selection's warnings are warnings.
func SelectionReport(certs []Candidate, opts SelectionOptions) *Report {
	sel := SelectClientCertificate(certs, opts)
	rep := &Report{Schema: ReportSchema, Kind: "client-selection", At: opts.At, Selection: &sel}
	if sel.Error != "" {
		rep.add(OriginSelection, Finding{ID: "selection_none", Level: lint.Error, Message: sel.Error,
			Fix: "give the client a certificate that passes every step (see each candidate's exclusion)", Source: SourcePlanCert})
	}
	for _, w := range sel.Warnings {
		rep.add(OriginSelection, warningFinding(w, lint.Warn))
	}
	if c := sel.Selected(); c != nil {
		rep.leaf = c.Cert
		rep.Certificate = summarize(c.Cert)
		if c.Chain != nil {
			rep.Chain = c.Chain
		}
	}
	return rep.finish()
}

func warningFinding(w Warning, lvl lint.Status) Finding {
	if w.Level == "notice" {
		lvl = lint.Notice
	}
	return Finding{ID: w.Code, Level: lvl, Message: w.Message, Source: w.Source}
}

// chainFindings turns a chain verdict into findings: the ChainError first
// (chain_<reason>, with the Windows error), then every other problem of an
// element as chain_<reason> by its trust status flags, then the chain's
// warnings and notices.
func chainFindings(c *ChainResult) []Finding {
	var out []Finding
	type key struct {
		elem   int
		reason Reason
	}
	seen := map[key]bool{}
	primary := -1
	if e := c.Error; e != nil {
		win := e.Windows
		msg := e.Detail
		if e.Subject != "" {
			msg = e.Subject + ": " + e.Detail
		}
		out = append(out, Finding{ID: "chain_" + string(e.Reason), Level: lint.Error, Message: msg, Windows: &win, Fix: e.Fix,
			Source: "windows-trust.md §2"})
		for i, el := range c.Elements {
			if el.Cert == e.Cert {
				seen[key{i, e.Reason}] = true
				primary = i
			}
		}
		if e.Reason == ReasonTooDeep {
			seen[key{0, ReasonPartialChain}] = true
		}
	}
	for i, el := range c.Elements {
		st := el.Status
		if i == primary && len(el.Problems) <= 1 {
			continue // its one problem is the ChainError
		}
		if i == primary {
			st &^= reasonFlags(c.Error.Reason)
		}
		for _, r := range reasonsOf(st) {
			if seen[key{i, r}] {
				continue
			}
			if r == ReasonExpired && el.Cert != nil && c.At.Before(el.Cert.NotBefore) {
				r = ReasonNotYetValid
			}
			if seen[key{i, r}] {
				continue
			}
			seen[key{i, r}] = true
			win := r.Windows()
			out = append(out, Finding{ID: "chain_" + string(r), Level: lint.Error, Windows: &win, Fix: r.Fix(),
				Message: el.Subject + ": " + strings.Join(el.Problems, "; "), Source: "windows-trust.md §2"})
		}
	}
	for _, w := range c.Warnings {
		out = append(out, warningFinding(w, lint.Warn))
	}
	for _, n := range c.Notices {
		out = append(out, warningFinding(n, lint.Notice))
	}
	return out
}

// reasonFlags are the trust status flags Chain sets for r.
func reasonFlags(r Reason) TrustStatus {
	switch r {
	case ReasonMalformed:
		return TrustInvalidExtension | TrustInvalidBasicConstraints
	case ReasonBadSignature:
		return TrustIsNotSignatureValid | TrustHasWeakSignature
	case ReasonPartialChain, ReasonTooDeep:
		return TrustIsPartialChain
	case ReasonNameMismatch:
		return 0
	case ReasonNotYetValid:
		return TrustIsNotTimeValid
	}
	for _, f := range []TrustStatus{TrustIsNotTimeValid, TrustIsRevoked, TrustIsNotValidForUsage, TrustIsUntrustedRoot,
		TrustIsOfflineRevocation | TrustRevocationStatusUnknown, TrustRevocationStatusUnknown, TrustInvalidBasicConstraints,
		TrustInvalidNameConstraints | TrustHasNotSupportedNameConstraint | TrustHasNotDefinedNameConstraint | TrustHasNotPermittedNameConstraint | TrustHasExcludedNameConstraint,
		TrustInvalidExtension | TrustHasNotSupportedCriticalExt | TrustInvalidPolicyConstraints} {
		if rs := reasonsOf(f); len(rs) > 0 && rs[0] == r {
			return f
		}
	}
	return 0
}

// reasonsOf maps an element's trust status flags to reasons, most
// fundamental first.
func reasonsOf(s TrustStatus) []Reason {
	var out []Reason
	add := func(f TrustStatus, r Reason) {
		if s&f != 0 {
			out = append(out, r)
		}
	}
	add(TrustIsNotSignatureValid, ReasonBadSignature)
	add(TrustIsPartialChain, ReasonPartialChain)
	add(TrustIsUntrustedRoot, ReasonUntrustedRoot)
	add(TrustInvalidBasicConstraints, ReasonBasicConstraints)
	add(TrustInvalidNameConstraints|TrustHasNotSupportedNameConstraint|TrustHasNotDefinedNameConstraint|
		TrustHasNotPermittedNameConstraint|TrustHasExcludedNameConstraint, ReasonNameConstraints)
	add(TrustInvalidExtension|TrustHasNotSupportedCriticalExt|TrustInvalidPolicyConstraints, ReasonInvalidExtension)
	add(TrustIsNotTimeValid, ReasonExpired)
	add(TrustIsRevoked, ReasonRevoked)
	add(TrustIsNotValidForUsage, ReasonWrongUsage)
	add(TrustIsOfflineRevocation, ReasonRevocationOffline)
	if s&TrustRevocationStatusUnknown != 0 && s&TrustIsOfflineRevocation == 0 {
		out = append(out, ReasonNoRevocationCheck)
	}
	return out
}

// inputFindings are the findings about the file itself, from the input
// rules (rule_pfx_*.go, rule_key_mismatch.go): a PFX without its key, a key
// that does not belong to the certificate, AES-only protection.
func inputFindings(b *certio.Bundle, in CertInput, info *Input, leaf *x509.Certificate, env lint.Env) []Finding {
	var out []Finding
	if b.KeyEncrypted {
		out = append(out, Finding{ID: "key_not_checked", Level: lint.Notice,
			Message: b.Name + ": the private key is encrypted and no password was given; it was not checked"})
	}
	key := b.Key
	if in.Key != nil {
		key = in.Key
		info.HasKey, info.KeyFile = true, in.KeyFile
	}
	if key != nil {
		ok := certio.KeyMatchesCertificate(key, leaf) == nil
		info.KeyMatches = &ok
	}
	return append(out, CheckInput(InputSubject{Name: b.Name, Bundle: b, PFX: b.PFX, Key: in.Key, KeyFile: in.KeyFile, Leaf: leaf}, env)...)
}

func summarize(c *x509.Certificate) *CertSummary {
	if c == nil {
		return nil
	}
	s := &CertSummary{Subject: certio.DN(c.RawSubject), Issuer: certio.DN(c.RawIssuer), Serial: serialHex(c), Thumbprint: thumbprint(c),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DNSNames: c.DNSNames, IsCA: c.IsCA}
	for _, e := range c.ExtKeyUsage {
		s.EKU = append(s.EKU, profiles.EKUName(e))
	}
	for _, e := range c.UnknownExtKeyUsage {
		s.EKU = append(s.EKU, e.String())
	}
	return s
}

func chainCerts(c *ChainResult) []*x509.Certificate {
	if c == nil {
		return nil
	}
	out := make([]*x509.Certificate, len(c.Elements))
	for i, e := range c.Elements {
		out[i] = e.Cert
	}
	return out
}

var ekuOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageServerAuth:  EKUServerAuth,
	x509.ExtKeyUsageClientAuth:  EKUClientAuth,
	x509.ExtKeyUsageOCSPSigning: {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

// profileUsages are the EKUs a profile requires, as chain usages (each
// must be allowed through the whole chain, as CryptoAPI nests them).
func profileUsages(p *profiles.Profile) []asn1.ObjectIdentifier {
	if p == nil {
		return nil
	}
	var out []asn1.ObjectIdentifier
	for _, e := range p.EKU.Required {
		if oid, ok := ekuOIDs[e]; ok {
			out = append(out, oid)
		}
	}
	return out
}

func mergeUsages(a, b []asn1.ObjectIdentifier) []asn1.ObjectIdentifier {
	out := append([]asn1.ObjectIdentifier{}, a...)
	for _, u := range b {
		dup := false
		for _, x := range out {
			dup = dup || x.Equal(u)
		}
		if !dup {
			out = append(out, u)
		}
	}
	return out
}
