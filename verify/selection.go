package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
)

// Client certificate selection as a ConfigMgr client does it
// (cmg-reference.md §3, [PLANCERT] "Plan for PKI client certificates" and
// [PROPS] CCMCERTSEL, CCMCERTISSUERS, CCMFIRSTCERT, CCMCERTSTORE). The
// client filters in this order:
//  1. chains to a root in the certificate issuers list;
//  2. is in the configured store (Personal by default);
//  3. is valid, not revoked, not expired, and its private key is accessible;
//  4. is capable of client authentication;
//  5. has the local computer name in its Subject as a substring, or matches
//     the alternate selection criteria;
//  6. among several matches, has the longest validity period (or selection
//     fails when the site says FailSelectionAndSendErrorMessage).
//
// Where the documents are silent, the choices below are judgement calls and
// are marked UNCONFIRMED.

// Sources cited by selection results.
const (
	SourcePlanCert = "cmg-reference.md §3 [PLANCERT] plan-for-certificates.md: client certificate selection order"
	SourceProps    = "cmg-reference.md §3 [PROPS] about-client-installation-properties.md: CCMCERTSEL, CCMCERTISSUERS, CCMFIRSTCERT"
	SourceKBKU     = "cmg-reference.md §6 [KB] cmg-communication-error.md: clients are filtered on the digital-signature key usage"
)

// SelectionStep is the step of the selection order that excluded a
// candidate.
type SelectionStep int

// The steps, numbered as in [PLANCERT].
const (
	StepIssuers    SelectionStep = 1 // chains to a root in the certificate issuers list
	StepStore      SelectionStep = 2 // in the configured store
	StepValid      SelectionStep = 3 // valid, not revoked, not expired, private key accessible
	StepClientAuth SelectionStep = 4 // client authentication capable
	StepSubject    SelectionStep = 5 // computer name in the subject, or the alternate criteria
	StepMultiple   SelectionStep = 6 // longest validity period, or fail on several matches
)

var stepNames = map[SelectionStep]string{
	StepIssuers: "issuers", StepStore: "store", StepValid: "valid", StepClientAuth: "client_auth",
	StepSubject: "subject", StepMultiple: "multiple",
}

func (s SelectionStep) String() string {
	if n, ok := stepNames[s]; ok {
		return n
	}
	return fmt.Sprintf("step%d", int(s))
}

// MultipleMatchAction is the site's "take action for multiple certificate
// match criteria" ([SETCMSITE] -TakeActionForMultipleCertificateMatchCriteria).
type MultipleMatchAction int

// The actions. The zero value is the default of the site and of
// CCMFIRSTCERT=1.
const (
	SelectLongestValidity MultipleMatchAction = iota // SelectCertificateWithLongestValidityPeriod
	FailOnMultiple                                   // FailSelectionAndSendErrorMessage
)

// CriteriaKind is the kind of selection criteria (CCMCERTSEL).
type CriteriaKind int

// The kinds. The zero value means no alternate criteria: the Subject must
// contain the computer name.
const (
	CriteriaComputerName CriteriaKind = iota // default: computer name in the Subject
	CriteriaSubjectStr                       // SubjectStr:value, partial, case-insensitive
	CriteriaSubject                          // Subject:value, exact
	CriteriaSubjectAttr                      // SubjectAttr:OID = value
)

// SelectionCriteria is a parsed CCMCERTSEL value.
type SelectionCriteria struct {
	Kind  CriteriaKind
	Value string
	// Attr is the attribute of SubjectAttr, as a dotted OID.
	Attr string
	// Raw is the text parsed.
	Raw string
}

// String is the criteria as written, or a description of the default.
func (c SelectionCriteria) String() string {
	if c.Kind == CriteriaComputerName {
		return "computer name in the Subject (no alternate criteria)"
	}
	return c.Raw
}

// Attribute names the certificate issuers list and SubjectAttr accept, with
// their OIDs ([PLANCERT]). SAN is the subject alternative name extension.
var selectionAttrs = map[string]string{
	"DC": "0.9.2342.19200300.100.1.25", "E": "1.2.840.113549.1.9.1", "CN": "2.5.4.3", "SN": "2.5.4.4",
	"SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6", "L": "2.5.4.7", "S": "2.5.4.8", "STREET": "2.5.4.9",
	"O": "2.5.4.10", "OU": "2.5.4.11", "T": "2.5.4.12", "G": "2.5.4.42", "I": "2.5.4.43", "SAN": "2.5.29.17",
}

// Aliases for the names above, as other tools write them.
var attrAliases = map[string]string{"ST": "S", "EMAIL": "E", "EMAILADDRESS": "E", "TITLE": "T", "GIVENNAME": "G",
	"SURNAME": "SN", "INITIALS": "I"}

var oidToAttr = func() map[string]string {
	m := map[string]string{}
	for k, v := range selectionAttrs {
		m[v] = k
	}
	return m
}()

// attrOID resolves an attribute name or dotted OID.
func attrOID(name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if a, ok := attrAliases[n]; ok {
		n = a
	}
	if oid, ok := selectionAttrs[n]; ok {
		return oid, nil
	}
	if isDottedOID(n) {
		return n, nil
	}
	return "", fmt.Errorf("unknown attribute %q (want DC, E, CN, SN, SERIALNUMBER, C, L, S, STREET, O, OU, T, G, I, SAN or a dotted OID)", strings.TrimSpace(name))
}

func isDottedOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// ParseSelectionCriteria reads a CCMCERTSEL value: "SubjectStr:text"
// (partial, case-insensitive), "Subject:text" (exact) or
// "SubjectAttr:OID = value" (attribute match; an attribute name such as OU
// works too). The empty string means no alternate criteria. Keywords are
// matched case-insensitively; the value is trimmed at both ends.
func ParseSelectionCriteria(s string) (SelectionCriteria, error) {
	c := SelectionCriteria{Raw: s}
	if strings.TrimSpace(s) == "" {
		return SelectionCriteria{}, nil
	}
	kw, val, ok := strings.Cut(s, ":")
	if !ok {
		return c, fmt.Errorf("verify: selection criteria %q: want SubjectStr:TEXT, Subject:TEXT or SubjectAttr:OID = VALUE", s)
	}
	val = strings.TrimSpace(val)
	switch strings.ToLower(strings.TrimSpace(kw)) {
	case "subjectstr":
		c.Kind = CriteriaSubjectStr
	case "subject":
		c.Kind = CriteriaSubject
	case "subjectattr":
		c.Kind = CriteriaSubjectAttr
		name, v, ok := strings.Cut(val, "=")
		if !ok {
			return c, fmt.Errorf("verify: selection criteria %q: SubjectAttr needs OID = VALUE, for example SubjectAttr:2.5.4.11 = Computers", s)
		}
		oid, err := attrOID(name)
		if err != nil {
			return c, fmt.Errorf("verify: selection criteria %q: %w", s, err)
		}
		c.Attr, val = oid, strings.TrimSpace(v)
	default:
		return c, fmt.Errorf("verify: selection criteria %q: unknown keyword %q (want SubjectStr, Subject or SubjectAttr)", s, strings.TrimSpace(kw))
	}
	if val == "" {
		return c, fmt.Errorf("verify: selection criteria %q: empty value", s)
	}
	c.Value = val
	return c, nil
}

// NameAttr is one attribute of a name: a short type (CN, OU, ...) or a
// dotted OID, and the value.
type NameAttr struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// IssuerName is one root of the certificate issuers list.
type IssuerName struct {
	Raw   string     `json:"raw"`
	Attrs []NameAttr `json:"attrs"`
}

func (n IssuerName) String() string { return n.Raw }

// ParseCertificateIssuers reads a certificate issuers list
// (CCMCERTISSUERS, or CertificateIssuers in mobileclient.tcf): roots
// separated by "|", each a list of attributes separated by "," or ";"
// ([PROPS]). A piece without "=" continues the previous value, so
// "O=Contoso, Ltd" (the example of [PROPS]) stays one attribute.
func ParseCertificateIssuers(s string) ([]IssuerName, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []IssuerName
	for i, root := range strings.Split(s, "|") {
		raw := strings.TrimSpace(root)
		if raw == "" {
			return nil, fmt.Errorf("verify: certificate issuers: root %d is empty", i+1)
		}
		n := IssuerName{Raw: raw}
		start := 0
		for j := 0; j <= len(raw); j++ {
			if j < len(raw) && raw[j] != ',' && raw[j] != ';' {
				continue
			}
			piece := raw[start:j]
			start = j + 1
			key, val, ok := strings.Cut(piece, "=")
			oid, err := attrOID(key)
			if !ok || err != nil || strings.ContainsAny(strings.TrimSpace(key), " \t") {
				if len(n.Attrs) == 0 {
					if ok && err != nil {
						return nil, fmt.Errorf("verify: certificate issuers: root %d %q: %w", i+1, raw, err)
					}
					return nil, fmt.Errorf("verify: certificate issuers: root %d %q: %q is not an attribute (want TYPE=value)", i+1, raw, strings.TrimSpace(piece))
				}
				last := &n.Attrs[len(n.Attrs)-1]
				last.Value += string(raw[j-len(piece)-1]) + piece
				last.Value = strings.TrimSpace(last.Value)
				continue
			}
			typ := oid
			if short, ok := oidToAttr[oid]; ok {
				typ = short
			}
			n.Attrs = append(n.Attrs, NameAttr{typ, strings.TrimSpace(val)})
		}
		out = append(out, n)
	}
	return out, nil
}

// nameAttrs lists a certificate name's attributes with short types.
func nameAttrs(c *x509.Certificate, subject bool) []NameAttr {
	names := c.Subject.Names
	if !subject {
		names = c.Issuer.Names
	}
	var out []NameAttr
	for _, atv := range names {
		typ := atv.Type.String()
		if s, ok := oidToAttr[typ]; ok {
			typ = s
		}
		out = append(out, NameAttr{typ, fmt.Sprint(atv.Value)})
	}
	return out
}

// windowsName formats a subject as Windows shows it: most specific RDN
// first, "CN=a, OU=b, O=c", values unescaped.
func windowsName(c *x509.Certificate) string {
	as := nameAttrs(c, true)
	parts := make([]string, len(as))
	for i, a := range as {
		parts[len(as)-1-i] = a.Type + "=" + a.Value
	}
	return strings.Join(parts, ", ")
}

// matchIssuer reports whether the root's subject has exactly the
// attributes of n, in any order, values compared case-sensitively
// ([PROPS]: "case-sensitive root subject attributes"). UNCONFIRMED: whether
// the client accepts an entry naming only some of the root's attributes;
// this requires them all, as the list the site generates holds the full
// subject.
func matchIssuer(root *x509.Certificate, n IssuerName) bool {
	have := nameAttrs(root, true)
	if len(have) != len(n.Attrs) {
		return false
	}
	used := make([]bool, len(have))
	for _, want := range n.Attrs {
		found := false
		for i, h := range have {
			if !used[i] && h.Type == want.Type && h.Value == want.Value {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Candidate is one certificate a client could select.
type Candidate struct {
	// Name says where the certificate came from (a file name), for the
	// report.
	Name string
	Cert *x509.Certificate
	// Intermediates that came with the certificate (a PFX or a bundle).
	Intermediates []*x509.Certificate
	// HasKey says the private key is present and accessible: a PFX with its
	// key, or a matching key file. Without it the client cannot use the
	// certificate (step 3).
	HasKey bool
	// Store is the store the certificate is in; empty means the configured
	// store (a file given on the command line is treated as in it).
	Store string
}

// CandidateFromBundle makes a candidate of a file read by certio. The
// candidate's certificate is the one the file's key belongs to or, without
// a key, the first certificate that is not a CA; the others are
// intermediates. HasKey is set when the key matches.
func CandidateFromBundle(b *certio.Bundle) Candidate {
	c := Candidate{Name: b.Name}
	if len(b.Certs) == 0 {
		return c
	}
	leaf := 0
	for i, x := range b.Certs {
		if b.Key != nil && certio.KeyMatchesCertificate(b.Key, x) == nil {
			leaf, c.HasKey = i, true
			break
		}
	}
	if !c.HasKey {
		for i, x := range b.Certs {
			if !x.IsCA {
				leaf = i
				break
			}
		}
	}
	c.Cert = b.Certs[leaf]
	for i, x := range b.Certs {
		if i != leaf {
			c.Intermediates = append(c.Intermediates, x)
		}
	}
	return c
}

// SelectionOptions are the client's settings and environment.
type SelectionOptions struct {
	// At is the evaluation time. Required.
	At time.Time
	// Issuers is the certificate issuers list (ParseCertificateIssuers).
	// Empty means no list: step 1 then accepts any trusted root.
	Issuers []IssuerName
	// Roots is the client's Trusted Root store; Intermediates are the
	// intermediate CAs it can use.
	Roots         []*x509.Certificate
	Intermediates []*x509.Certificate
	// Store is the configured store (CCMCERTSTORE); empty means "My"
	// (Personal of the computer).
	Store string
	// Criteria are the alternate selection criteria (CCMCERTSEL); the zero
	// value asks for ComputerName in the Subject.
	Criteria SelectionCriteria
	// ComputerName is the client's computer name; required with the
	// default criteria.
	ComputerName string
	// OnMultiple is the action when several certificates match.
	OnMultiple MultipleMatchAction
	// CRLs and Revocation are passed to Chain for step 3. The zero
	// Revocation is off; a ConfigMgr client checks the CRL by default
	// ([PLANCERT]), so callers normally set RevocationChainExcludeRoot.
	CRLs       []*x509.RevocationList
	Revocation RevocationMode
}

// Exclusion says which step excluded a candidate and why.
type Exclusion struct {
	Step SelectionStep `json:"step"`
	// StepName is Step as text (issuers, store, valid, client_auth,
	// subject, multiple).
	StepName string `json:"step_name"`
	Observed string `json:"observed"`
	Expected string `json:"expected"`
	// Windows is the chain error behind a step 1 or 3 exclusion.
	Windows *WindowsError `json:"windows,omitempty"`
	Source  string        `json:"source"`
}

// CandidateResult is the verdict on one candidate.
type CandidateResult struct {
	Name       string            `json:"name"`
	Subject    string            `json:"subject"`
	Thumbprint string            `json:"thumbprint_sha1"`
	NotBefore  time.Time         `json:"not_before"`
	NotAfter   time.Time         `json:"not_after"`
	Selected   bool              `json:"selected"`
	Excluded   *Exclusion        `json:"excluded,omitempty"`
	Chain      *ChainResult      `json:"chain,omitempty"`
	Cert       *x509.Certificate `json:"-"`
}

// SelectionResult is the outcome of SelectClientCertificate.
type SelectionResult struct {
	At       time.Time `json:"at"`
	Criteria string    `json:"criteria"`
	Issuers  []string  `json:"issuers,omitempty"`
	// Candidates are in input order, each selected or excluded.
	Candidates []CandidateResult `json:"candidates"`
	// Chosen is the selected candidate's index, -1 when none.
	Chosen int `json:"-"`
	// Error says why no certificate was selected; empty when one was.
	Error    string    `json:"error,omitempty"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// Selected returns the chosen candidate, or nil.
func (r *SelectionResult) Selected() *CandidateResult {
	if r.Chosen < 0 || r.Chosen >= len(r.Candidates) {
		return nil
	}
	return &r.Candidates[r.Chosen]
}

func exclude(step SelectionStep, observed, expected, source string) *Exclusion {
	return &Exclusion{Step: step, StepName: step.String(), Observed: observed, Expected: expected, Source: source}
}

// SelectClientCertificate applies the ConfigMgr client certificate selection
// order to certs and reports the chosen one and, for every other, the step
// that excluded it with what was observed and what was expected. It never
// reads the clock and fetches nothing.
func SelectClientCertificate(certs []Candidate, opts SelectionOptions) SelectionResult {
	res := SelectionResult{At: opts.At, Criteria: opts.Criteria.String(), Chosen: -1}
	for _, n := range opts.Issuers {
		res.Issuers = append(res.Issuers, n.Raw)
	}
	if err := opts.validate(); err != nil {
		res.Error = err.Error()
		return res
	}
	if v := opts.Criteria.Value; strings.ContainsAny(v, " \t") {
		res.Warnings = append(res.Warnings, Warning{Code: "criteria_spaces", Message: fmt.Sprintf(
			"the selection criteria value %q contains spaces: a field report says the client strips them and the match fails (UNCONFIRMED for current clients)", v),
			Source: "cmg-failures.md F33"})
	}
	var survivors []int
	for i, cand := range certs {
		cr := CandidateResult{Name: cand.Name, Cert: cand.Cert}
		if cand.Cert == nil {
			cr.Excluded = exclude(StepValid, "no certificate", "a parsed certificate", SourcePlanCert)
			res.Candidates = append(res.Candidates, cr)
			continue
		}
		c := cand.Cert
		cr.Subject, cr.Thumbprint = windowsName(c), thumbprint(c)
		cr.NotBefore, cr.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
		chain, _ := Chain(c, ChainOptions{
			Roots: opts.Roots, Intermediates: append(append([]*x509.Certificate{}, cand.Intermediates...), opts.Intermediates...),
			At: opts.At, Usages: []asn1.ObjectIdentifier{EKUClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
			CRLs: opts.CRLs, Revocation: opts.Revocation,
		})
		cr.Chain = chain
		cr.Excluded = opts.judge(cand, chain)
		if cr.Excluded == nil {
			survivors = append(survivors, i)
		}
		res.Candidates = append(res.Candidates, cr)
	}
	switch {
	case len(survivors) == 1:
		res.Chosen = survivors[0]
	case len(survivors) == 0:
		res.Error = "no certificate passes the selection order"
		if len(opts.Issuers) > 0 {
			res.Error += "; with a certificate issuers list the client stops here and uses no PKI certificate ([PLANCERT])"
		}
	case opts.OnMultiple == FailOnMultiple:
		res.Error = fmt.Sprintf("%d certificates match and the site's action for several matches is FailSelectionAndSendErrorMessage: none is selected and a status message goes to the fallback status point", len(survivors))
		for _, i := range survivors {
			res.Candidates[i].Excluded = exclude(StepMultiple, fmt.Sprintf("one of %d matching certificates", len(survivors)),
				"exactly one matching certificate (FailSelectionAndSendErrorMessage)", SourcePlanCert)
		}
	default:
		// Longest validity period: NotAfter - NotBefore (the RFC 5280
		// validity period). UNCONFIRMED: whether the client compares the
		// period or the remaining time; a tie goes to the later NotAfter,
		// then to the lower thumbprint so that the result is stable.
		best := survivors[0]
		for _, i := range survivors[1:] {
			if longer(res.Candidates[i], res.Candidates[best]) {
				best = i
			}
		}
		res.Chosen = best
		b := res.Candidates[best]
		for _, i := range survivors {
			if i == best {
				continue
			}
			cr := res.Candidates[i]
			res.Candidates[i].Excluded = exclude(StepMultiple,
				fmt.Sprintf("validity period %s (%s to %s)", days(cr), day(cr.NotBefore), day(cr.NotAfter)),
				fmt.Sprintf("the longest validity period of the %d matching certificates: %q has %s (to %s)", len(survivors), b.Name, days(b), day(b.NotAfter)),
				SourceProps)
		}
	}
	if res.Chosen >= 0 {
		res.Candidates[res.Chosen].Selected = true
	}
	return res
}

func longer(a, b CandidateResult) bool {
	da, db := a.NotAfter.Sub(a.NotBefore), b.NotAfter.Sub(b.NotBefore)
	if da != db {
		return da > db
	}
	if !a.NotAfter.Equal(b.NotAfter) {
		return a.NotAfter.After(b.NotAfter)
	}
	return a.Thumbprint < b.Thumbprint
}

func days(c CandidateResult) string {
	return fmt.Sprintf("%.0f days", c.NotAfter.Sub(c.NotBefore).Hours()/24)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func (o *SelectionOptions) validate() error {
	if o.At.IsZero() {
		return errors.New("verify: SelectionOptions.At is required")
	}
	if o.Criteria.Kind == CriteriaComputerName && strings.TrimSpace(o.ComputerName) == "" {
		return errors.New("verify: a computer name is required when no selection criteria are given")
	}
	return nil
}

func storeName(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "my", "personal":
		return "My"
	}
	return strings.TrimSpace(s)
}

// judge runs steps 1 to 5 on one candidate.
func (o *SelectionOptions) judge(cand Candidate, chain *ChainResult) *Exclusion {
	c := cand.Cert
	last := chain.Elements[len(chain.Elements)-1]
	anchored := last.TrustedAs == "root"
	chainErr := func() *WindowsError {
		if chain.Error == nil {
			return nil
		}
		w := chain.Error.Windows
		return &w
	}

	// Step 1: the chain ends at a trusted root named in the issuers list.
	if len(o.Issuers) > 0 {
		if !anchored {
			ex := exclude(StepIssuers, "the chain does not reach a trusted root: "+chainProblem(chain, TrustIsUntrustedRoot|TrustIsPartialChain),
				"a chain to a root in the certificate issuers list: "+issuerList(o.Issuers), SourcePlanCert)
			ex.Windows = chainErr()
			return ex
		}
		ok := false
		for _, n := range o.Issuers {
			ok = ok || matchIssuer(last.Cert, n)
		}
		if !ok {
			return exclude(StepIssuers, fmt.Sprintf("the chain ends at root %q", windowsName(last.Cert)),
				"a root in the certificate issuers list (case-sensitive attributes): "+issuerList(o.Issuers), SourceProps)
		}
	}
	// Step 2: in the configured store.
	if cand.Store != "" && storeName(cand.Store) != storeName(o.Store) {
		return exclude(StepStore, fmt.Sprintf("in store %q", cand.Store), fmt.Sprintf("in store %q (CCMCERTSTORE; Personal of the computer by default)", storeName(o.Store)), SourcePlanCert)
	}
	// Step 3: valid, not revoked, not expired, private key accessible.
	if c.NotAfter.Before(o.At) {
		return exclude(StepValid, "expired on "+c.NotAfter.UTC().Format(time.RFC3339), "valid at "+o.At.UTC().Format(time.RFC3339), SourcePlanCert)
	}
	if c.NotBefore.After(o.At) {
		return exclude(StepValid, "not valid before "+c.NotBefore.UTC().Format(time.RFC3339), "valid at "+o.At.UTC().Format(time.RFC3339), SourcePlanCert)
	}
	validity := TrustIsNotTimeValid | TrustIsRevoked | TrustIsOfflineRevocation | TrustRevocationStatusUnknown |
		TrustIsNotSignatureValid | TrustInvalidBasicConstraints | TrustInvalidNameConstraints | TrustHasNotSupportedNameConstraint |
		TrustHasNotDefinedNameConstraint | TrustHasNotPermittedNameConstraint | TrustHasExcludedNameConstraint |
		TrustInvalidExtension | TrustInvalidPolicyConstraints | TrustHasNotSupportedCriticalExt | TrustIsCyclic |
		TrustHasWeakSignature | TrustIsExplicitDistrust
	if len(o.Issuers) == 0 {
		validity |= TrustIsUntrustedRoot | TrustIsPartialChain
	}
	if chain.Status&validity != 0 {
		ex := exclude(StepValid, chainProblem(chain, validity), "a valid, unrevoked chain to a trusted root at "+o.At.UTC().Format(time.RFC3339), SourcePlanCert)
		ex.Windows = chainErr()
		return ex
	}
	if !cand.HasKey {
		return exclude(StepValid, "no private key (a certificate file without its key)", "an accessible private key (a PFX with the key, or the matching key file)", SourcePlanCert)
	}
	// Step 4: client authentication capable. A certificate without an EKU
	// extension is valid for every usage in CryptoAPI, so it is capable;
	// the key usage, when present, must allow digitalSignature ([KB]).
	ci := parseCertInfo(c)
	if ci.ekuPresent {
		ok := false
		for _, u := range ci.eku {
			ok = ok || u.Equal(EKUClientAuth) || u.Equal(EKUAny)
		}
		if !ok {
			return exclude(StepClientAuth, fmt.Sprintf("EKUs are [%s]", oidNames(ci.eku)), "clientAuth (1.3.6.1.5.5.7.3.2) in the extended key usage", SourcePlanCert)
		}
	}
	if hasExt(ci, oidKU) && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return exclude(StepClientAuth, fmt.Sprintf("key usage is 0x%02x without digitalSignature", int(c.KeyUsage)), "digitalSignature in the key usage", SourceKBKU)
	}
	if chain.Status.Has(TrustIsNotValidForUsage) {
		return exclude(StepClientAuth, chainProblem(chain, TrustIsNotValidForUsage), "clientAuth allowed by every CA of the chain", SourcePlanCert)
	}
	// Step 5: the subject criteria.
	return o.matchCriteria(c)
}

func issuerList(l []IssuerName) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = n.Raw
	}
	return strings.Join(s, " | ")
}

// chainProblem names the first element problem among the flags.
func chainProblem(chain *ChainResult, flags TrustStatus) string {
	for _, e := range chain.Elements {
		if e.Status&flags != 0 && len(e.Problems) > 0 {
			return fmt.Sprintf("%q: %s", e.Subject, strings.Join(e.Problems, "; "))
		}
	}
	if chain.Error != nil {
		return chain.Error.Detail
	}
	return (chain.Status & flags).String()
}

// sanValues lists the SAN values a selection criterion can match.
func sanValues(c *x509.Certificate) []string {
	var out []string
	out = append(out, c.DNSNames...)
	out = append(out, c.EmailAddresses...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

func (o *SelectionOptions) matchCriteria(c *x509.Certificate) *Exclusion {
	subj := windowsName(c)
	sans := sanValues(c)
	crit := o.Criteria
	switch crit.Kind {
	case CriteriaComputerName:
		if strings.Contains(strings.ToLower(subj), strings.ToLower(o.ComputerName)) {
			return nil
		}
		obs := fmt.Sprintf("Subject %q does not contain %q", subj, o.ComputerName)
		for _, s := range sans {
			if strings.Contains(strings.ToLower(s), strings.ToLower(o.ComputerName)) {
				obs += fmt.Sprintf(" (the SAN %q does, but the client looks in the Subject)", s)
				break
			}
		}
		return exclude(StepSubject, obs, fmt.Sprintf("the computer name %q as a substring of the Subject (no alternate selection criteria)", o.ComputerName), SourcePlanCert)
	case CriteriaSubjectStr:
		// Partial and case-insensitive, on the Subject and on the SAN ([PROPS]).
		v := strings.ToLower(crit.Value)
		if strings.Contains(strings.ToLower(subj), v) {
			return nil
		}
		for _, s := range sans {
			if strings.Contains(strings.ToLower(s), v) {
				return nil
			}
		}
		return exclude(StepSubject, fmt.Sprintf("Subject %q, SAN [%s]", subj, strings.Join(sans, ", ")),
			fmt.Sprintf("%q in the Subject or a SAN value (SubjectStr: partial, case-insensitive)", crit.Value), SourceProps)
	case CriteriaSubject:
		// Exact: case-sensitive on the Subject Name (the whole name as
		// Windows shows it, or one attribute value), case-insensitive on a
		// SAN value ([PROPS]). UNCONFIRMED: which string the client
		// compares; both readings are accepted.
		if subj == crit.Value {
			return nil
		}
		for _, a := range nameAttrs(c, true) {
			if a.Value == crit.Value {
				return nil
			}
		}
		for _, s := range sans {
			if strings.EqualFold(s, crit.Value) {
				return nil
			}
		}
		return exclude(StepSubject, fmt.Sprintf("Subject %q, SAN [%s]", subj, strings.Join(sans, ", ")),
			fmt.Sprintf("exactly %q (Subject: case-sensitive on the Subject Name, case-insensitive on the SAN)", crit.Value), SourceProps)
	case CriteriaSubjectAttr:
		// Case-sensitive attribute match; 2.5.29.17 matches a SAN value
		// ([PLANCERT]).
		var seen []string
		if crit.Attr == selectionAttrs["SAN"] {
			for _, s := range sans {
				if s == crit.Value {
					return nil
				}
			}
			seen = sans
		} else {
			for _, atv := range c.Subject.Names {
				if atv.Type.String() == crit.Attr {
					v := fmt.Sprint(atv.Value)
					if v == crit.Value {
						return nil
					}
					seen = append(seen, v)
				}
			}
		}
		name := crit.Attr
		if s, ok := oidToAttr[crit.Attr]; ok {
			name = s + " (" + crit.Attr + ")"
		}
		obs := fmt.Sprintf("%s is [%s]", name, strings.Join(quoteAll(seen), ", "))
		if len(seen) == 0 {
			obs = fmt.Sprintf("no %s attribute", name)
		}
		return exclude(StepSubject, obs, fmt.Sprintf("%s = %q (SubjectAttr: case-sensitive)", name, crit.Value), SourcePlanCert)
	}
	return exclude(StepSubject, "unknown criteria", "SubjectStr, Subject or SubjectAttr", SourceProps)
}

func quoteAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = fmt.Sprintf("%q", s)
	}
	sort.Strings(out)
	return out
}
