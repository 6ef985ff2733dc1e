package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

var at = pkitest.At

type node struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serialCounter int64 = 1000

func ecKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue signs tmpl with parent (nil: self-signed) and returns the node.
func issue(t *testing.T, tmpl *x509.Certificate, parent *node, key crypto.Signer) *node {
	t.Helper()
	if key == nil {
		key = ecKey(t)
	}
	serialCounter++
	tmpl.SerialNumber = big.NewInt(serialCounter)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = at.Add(-24 * time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = at.Add(365 * 24 * time.Hour)
	}
	pc, pk := tmpl, key
	if parent != nil {
		pc, pk = parent.cert, parent.key
	}
	c := pkitest.Certificate(t, tmpl, pc, key.Public(), pk)
	return &node{c, key}
}

func caTmpl(cn string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Contoso"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

func leafTmpl(cn string, dns ...string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Contoso"}}, DNSNames: dns,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// pki is root -> ica -> leaf (cmg.contoso.com).
type pki struct{ root, ica, leaf *node }

func newPKI(t *testing.T) pki {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	ica := issue(t, caTmpl("Contoso Issuing"), root, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica, nil)
	return pki{root, ica, leaf}
}

func (p pki) opts() ChainOptions {
	return ChainOptions{Roots: []*x509.Certificate{p.root.cert}, Intermediates: []*x509.Certificate{p.ica.cert},
		At: at, Usages: []asn1OID{EKUServerAuth}, Name: "cmg.contoso.com"}
}

func crlOf(t *testing.T, issuer *node, thisUpdate, nextUpdate time.Time, revoked ...*x509.Certificate) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: thisUpdate, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

func chainCNs(r *ChainResult) string {
	var s []string
	for _, e := range r.Elements {
		s = append(s, e.Cert.Subject.CommonName)
	}
	return strings.Join(s, " <- ")
}

func wantOK(t *testing.T, r *ChainResult, err error, chain string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Chain: %v", err)
	}
	if !r.Trusted || r.Error != nil {
		t.Fatalf("not trusted: %+v", r.Error)
	}
	if got := chainCNs(r); got != chain {
		t.Fatalf("chain = %s, want %s", got, chain)
	}
}

func wantErr(t *testing.T, r *ChainResult, err error, reason Reason, win WindowsError, detail string) *ChainError {
	t.Helper()
	var ce *ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want *ChainError %s", err, reason)
	}
	if ce.Reason != reason || ce.Windows != win {
		t.Fatalf("reason %s %s, want %s %s: %v", ce.Reason, ce.Windows.HRESULT, reason, win.HRESULT, ce)
	}
	if !strings.Contains(ce.Error(), detail) {
		t.Fatalf("error %q does not mention %q", ce.Error(), detail)
	}
	if r == nil || r.Trusted || r.Error != ce {
		t.Fatalf("result does not carry the error: %+v", r)
	}
	return ce
}

func TestChainGood(t *testing.T) {
	p := newPKI(t)
	r, err := Chain(p.leaf.cert, p.opts())
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if r.Name.MatchedBy != "dns_san" || len(r.Warnings) != 0 {
		t.Fatalf("name %+v warnings %+v", r.Name, r.Warnings)
	}
	e := r.Elements[0]
	if e.Thumbprint != thumbprint(p.leaf.cert) || len(e.Thumbprint) != 40 || e.Serial == "" || r.Elements[2].TrustedAs != "root" {
		t.Fatalf("element %+v", e)
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"flags":["CERT_TRUST_NO_ERROR"]`) {
		t.Fatalf("json %s %v", b, err)
	}
}

func TestChainZeroTime(t *testing.T) {
	p := newPKI(t)
	o := p.opts()
	o.At = time.Time{}
	if _, err := Chain(p.leaf.cert, o); err == nil || !strings.Contains(err.Error(), "At is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestChainUntrustedRoot(t *testing.T) {
	p := newPKI(t)
	o := p.opts()
	o.Roots = nil
	o.Intermediates = append(o.Intermediates, p.root.cert)
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonUntrustedRoot, WinUntrustedRoot, "not in the trusted root store")
	if last := r.Elements[len(r.Elements)-1]; !last.Status.Has(TrustIsUntrustedRoot) || r.Error.Windows.WinHTTP != 12045 {
		t.Fatalf("status %v", last.Status)
	}
}

func TestChainMissingIntermediate(t *testing.T) {
	p := newPKI(t)
	o := p.opts()
	o.Intermediates = nil
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonPartialChain, WinChaining, "no issuer found")
	if !r.Status.Has(TrustIsPartialChain) {
		t.Fatalf("status %v", r.Status)
	}
}

func TestChainExpiredIntermediate(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	tmpl := caTmpl("Contoso Issuing")
	tmpl.NotBefore, tmpl.NotAfter = at.AddDate(-2, 0, 0), at.AddDate(0, 0, -1)
	ica := issue(t, tmpl, root, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica, nil)
	r, err := Chain(leaf.cert, pki{root, ica, leaf}.opts())
	wantErr(t, r, err, ReasonExpired, WinExpired, "expired at")
	if !r.Elements[1].Status.Has(TrustIsNotTimeValid) || r.Elements[0].Status != 0 || r.Error.Windows.WinHTTP != 12037 {
		t.Fatalf("statuses %v %v", r.Elements[0].Status, r.Elements[1].Status)
	}
}

// A CA restricted to clientAuth cannot issue a serverAuth leaf: CryptoAPI
// nests EKUs down the path.
func TestChainWrongUsageNested(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	tmpl := caTmpl("Contoso Client CA")
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	ica := issue(t, tmpl, root, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica, nil)
	r, err := Chain(leaf.cert, pki{root, ica, leaf}.opts())
	wantErr(t, r, err, ReasonWrongUsage, WinWrongUsage, "does not allow serverAuth")
	if !r.Elements[1].Status.Has(TrustIsNotValidForUsage) || r.Elements[0].Status.Has(TrustIsNotValidForUsage) || r.Error.Windows.WinHTTP != 12179 {
		t.Fatalf("statuses %v %v", r.Elements[0].Status, r.Elements[1].Status)
	}
	// The same chain is fine for clientAuth... except the leaf lacks it.
	o := pki{root, ica, leaf}.opts()
	o.Usages = []asn1OID{EKUClientAuth}
	_, err = Chain(leaf.cert, o)
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Cert != leaf.cert {
		t.Fatalf("clientAuth: %v", err)
	}
}

func TestChainCNOnlyName(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	ica := issue(t, caTmpl("Contoso Issuing"), root, nil)
	leaf := issue(t, leafTmpl("mp.contoso.com"), ica, nil) // no SAN
	o := pki{root, ica, leaf}.opts()
	o.Name = "MP.contoso.com"
	if err := goVerify(root, ica, leaf, "mp.contoso.com"); err == nil {
		t.Fatal("crypto/x509 matched the CN; the test no longer shows the divergence")
	}
	r, err := Chain(leaf.cert, o)
	wantOK(t, r, err, "mp.contoso.com <- Contoso Issuing <- Contoso Root")
	if r.Name.MatchedBy != "cn_fallback" || len(r.Warnings) != 1 || r.Warnings[0].Code != "cn_fallback" ||
		!strings.Contains(r.Warnings[0].Message, "Windows accepts the CN; other clients do not") {
		t.Fatalf("name %+v warnings %+v", r.Name, r.Warnings)
	}
}

func TestChainNameMismatch(t *testing.T) {
	p := newPKI(t)
	o := p.opts()
	o.Name = "mp.contoso.com"
	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonNameMismatch, WinNameMismatch, "matches no DNS SAN")
	if r.Error.Windows.WinHTTP != 12038 {
		t.Fatal(r.Error.Windows)
	}
	// The CN equals the name, but a DNS SAN is present: no CN fallback.
	leaf := issue(t, leafTmpl("mp.contoso.com", "other.contoso.com"), p.ica, nil)
	r, err = Chain(leaf.cert, o)
	wantErr(t, r, err, ReasonNameMismatch, WinNameMismatch, "the CN is not used")
}

// A SHA-1 signed chain under an enterprise root builds, as on Windows, where
// crypto/x509 refuses it (golang/go#62048).
func TestChainSHA1EnterpriseRoot(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	root := issue(t, caTmpl("Contoso Root"), nil, rsaKey)
	tmpl := caTmpl("Contoso SHA1 Issuing")
	tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	ica := issue(t, tmpl, root, rsaKey)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.SignatureAlgorithm = x509.SHA1WithRSA
	leaf := issue(t, lt, ica, nil)
	if ica.cert.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Fatalf("fixture not SHA-1: %v", ica.cert.SignatureAlgorithm)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root.cert)
	inter := x509.NewCertPool()
	inter.AddCert(ica.cert)
	if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: at, DNSName: "cmg.contoso.com"}); err == nil {
		t.Fatal("crypto/x509 accepted the SHA-1 chain; the test no longer shows the divergence")
	}
	o := pki{root, ica, leaf}.opts()
	r, err := Chain(leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso SHA1 Issuing <- Contoso Root")
	if len(r.Warnings) == 0 || r.Warnings[0].Code != "sha1_signature" {
		t.Fatalf("warnings %+v", r.Warnings)
	}
	o.RejectSHA1 = true
	r, err = Chain(leaf.cert, o)
	wantErr(t, r, err, ReasonBadSignature, WinBadSignature, "SHA1-RSA")
	if !r.Status.Has(TrustHasWeakSignature) {
		t.Fatal(r.Status)
	}
}

// The issuing CA is cross-signed: by an old root (that copy has expired)
// and by a new root. Path building must leave the expired path and use the
// other.
func TestChainCrossSignedBacktracking(t *testing.T) {
	oldRoot := issue(t, caTmpl("Contoso Old Root"), nil, nil)
	newRoot := issue(t, caTmpl("Contoso New Root"), nil, nil)
	icaKey := ecKey(t)
	expired := caTmpl("Contoso Issuing")
	expired.NotBefore, expired.NotAfter = at.AddDate(-3, 0, 0), at.AddDate(0, -1, 0)
	icaOld := issue(t, expired, oldRoot, icaKey)
	icaNew := issue(t, caTmpl("Contoso Issuing"), newRoot, icaKey)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), icaNew, nil)
	o := ChainOptions{Roots: []*x509.Certificate{oldRoot.cert, newRoot.cert}, Intermediates: []*x509.Certificate{icaOld.cert, icaNew.cert},
		At: at, Usages: []asn1OID{EKUServerAuth}, Name: "cmg.contoso.com"}
	r, err := Chain(leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso New Root")
	if r.Elements[1].Cert != icaNew.cert {
		t.Fatal("wrong cross certificate chosen")
	}

	// Dead end first: the first candidate (listed first, valid) leads to a
	// root that is not given; backtracking finds the path to the trusted one.
	lostRoot := issue(t, caTmpl("Contoso Lost Root"), nil, nil)
	icaLost := issue(t, caTmpl("Contoso Issuing"), lostRoot, icaKey)
	o.Roots = []*x509.Certificate{newRoot.cert}
	o.Intermediates = []*x509.Certificate{icaLost.cert, icaNew.cert}
	r, err = Chain(leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso New Root")
	if len(r.Rejected) == 0 || !strings.Contains(strings.Join(r.Rejected, "\n"), "Contoso Lost Root") {
		t.Fatalf("rejected paths not explained: %q", r.Rejected)
	}

	// Neither path valid: the error explains both ("candidates exhausted").
	o.Roots = []*x509.Certificate{oldRoot.cert}
	o.Intermediates = []*x509.Certificate{icaLost.cert, icaOld.cert}
	r, err = Chain(leaf.cert, o)
	ce := wantErr(t, r, err, ReasonExpired, WinExpired, "candidates exhausted")
	if !strings.Contains(ce.Error(), "Contoso Lost Root") {
		t.Fatal(ce)
	}
}

func TestChainMaxDepth(t *testing.T) {
	root := issue(t, caTmpl("Root"), nil, nil)
	ica1 := issue(t, caTmpl("ICA1"), root, nil)
	ica2 := issue(t, caTmpl("ICA2"), ica1, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica2, nil)
	o := ChainOptions{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{ica1.cert, ica2.cert}, At: at, MaxDepth: 4}
	r, err := Chain(leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- ICA2 <- ICA1 <- Root")
	o.MaxDepth = 3
	r, err = Chain(leaf.cert, o)
	wantErr(t, r, err, ReasonTooDeep, WinChaining, "exceeds the maximum depth 3")
}

func TestChainRevocation(t *testing.T) {
	p := newPKI(t)
	good := crlOf(t, p.ica, at.Add(-time.Hour), at.Add(7*24*time.Hour))
	rootCRL := crlOf(t, p.root, at.Add(-time.Hour), at.Add(7*24*time.Hour))
	// Same name and key identifier as the issuing CA, another key.
	ot := caTmpl("Contoso Issuing")
	ot.SubjectKeyId = p.ica.cert.SubjectKeyId
	other := issue(t, ot, p.root, nil)
	cases := []struct {
		name   string
		mode   RevocationMode
		crls   []*x509.RevocationList
		reason Reason
		detail string
	}{
		{"good_end_cert", RevocationEndCert, []*x509.RevocationList{good}, "", ""},
		{"good_chain_root_not_checked", RevocationChainExcludeRoot, []*x509.RevocationList{good, rootCRL}, "", ""},
		{"revoked", RevocationEndCert, []*x509.RevocationList{crlOf(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour), p.leaf.cert)}, ReasonRevoked, "revoked at"},
		{"ica_revoked", RevocationChainExcludeRoot, []*x509.RevocationList{good, crlOf(t, p.root, at.Add(-time.Hour), at.Add(time.Hour), p.ica.cert)}, ReasonRevoked, "Contoso Issuing"},
		// The test certificates carry no CDP or OCSP URL: with no CRL of
		// the issuer supplied, nothing can be checked (0x80092012).
		{"crl_missing", RevocationEndCert, nil, ReasonNoRevocationCheck, "CN=cmg.contoso.com has no CRL distribution point and no OCSP URL"},
		{"ica_crl_missing", RevocationChainExcludeRoot, []*x509.RevocationList{good}, ReasonNoRevocationCheck, "CN=Contoso Issuing has no CRL distribution point and no OCSP URL, and no CRL of CN=Contoso Root"},
		{"crl_expired", RevocationEndCert, []*x509.RevocationList{crlOf(t, p.ica, at.Add(-8*24*time.Hour), at.Add(-time.Hour))}, ReasonRevocationOffline, "expired: nextUpdate"},
		{"crl_not_yet_valid", RevocationEndCert, []*x509.RevocationList{crlOf(t, p.ica, at.Add(time.Hour), at.Add(48*time.Hour))}, ReasonRevocationOffline, "not yet valid"},
		{"crl_other_key", RevocationEndCert, []*x509.RevocationList{crlOf(t, other, at.Add(-time.Hour), at.Add(time.Hour), p.leaf.cert)}, ReasonRevocationOffline, "signature does not verify"},
		{"off", RevocationOff, nil, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := p.opts()
			o.Revocation, o.CRLs = tc.mode, tc.crls
			r, err := Chain(p.leaf.cert, o)
			if tc.reason == "" {
				wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
				if tc.mode != RevocationOff && r.Elements[0].Revocation.Status != RevGood {
					t.Fatalf("revocation %+v", r.Elements[0].Revocation)
				}
				if r.Elements[2].Revocation != nil {
					t.Fatal("root checked for revocation")
				}
				return
			}
			win := map[Reason]WindowsError{ReasonRevoked: WinRevoked, ReasonRevocationOffline: WinRevocationOffline, ReasonNoRevocationCheck: WinNoRevocationCheck}[tc.reason]
			wantErr(t, r, err, tc.reason, win, tc.detail)
			if tc.reason == ReasonNoRevocationCheck && (!r.Status.Has(TrustRevocationStatusUnknown) || r.Status.Has(TrustIsOfflineRevocation)) {
				t.Fatalf("status %v", r.Status)
			}
			if tc.reason == ReasonRevocationOffline && !r.Status.Has(TrustRevocationStatusUnknown|TrustIsOfflineRevocation) {
				t.Fatalf("status %v", r.Status)
			}
			if tc.reason == ReasonRevoked && !r.Status.Has(TrustIsRevoked) {
				t.Fatalf("status %v", r.Status)
			}
		})
	}
}

// A certificate without any revocation pointer is CRYPT_E_NO_REVOCATION_CHECK
// 0x80092012, not offline; one whose CDP cannot be reached is offline.
// SkipLeafRevocation leaves the leaf out and still checks the issuing CA.
func TestChainNoRevocationPointer(t *testing.T) {
	p := newPKI(t)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.CRLDistributionPoints = []string{"http://pki.contoso.com/issuing.crl"}
	withCDP := issue(t, lt, p.ica, nil)
	o := p.opts()
	o.Revocation = RevocationEndCert

	r, err := Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonNoRevocationCheck, WinNoRevocationCheck, "has no CRL distribution point and no OCSP URL")
	if r.Error.Windows.HRESULT != 0x80092012 || r.Error.Windows.WinHTTP != 12057 || r.Error.Windows.Name != "CRYPT_E_NO_REVOCATION_CHECK" {
		t.Errorf("windows error %v", r.Error.Windows)
	}
	if st := r.Elements[0].Status; st != TrustRevocationStatusUnknown {
		t.Errorf("leaf status %v, want CERT_TRUST_REVOCATION_STATUS_UNKNOWN alone", st)
	}
	if rv := r.Elements[0].Revocation; rv == nil || rv.Status != RevNoCheck {
		t.Errorf("leaf revocation %+v", rv)
	}
	if !strings.Contains(r.Error.Fix, "CRL distribution point (http)") {
		t.Errorf("fix %q", r.Error.Fix)
	}

	r, err = Chain(withCDP.cert, o)
	wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, "no usable CRL")

	// A role whose leaf is not checked: the leaf has no result, the CA is
	// still checked (and has no pointer either here).
	o.SkipLeafRevocation = true
	r, err = Chain(p.leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if r.Elements[0].Revocation != nil {
		t.Errorf("leaf checked: %+v", r.Elements[0].Revocation)
	}
	o.Revocation = RevocationChainExcludeRoot
	r, err = Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonNoRevocationCheck, WinNoRevocationCheck, "CN=Contoso Issuing has no CRL distribution point")
	o.CRLs = []*x509.RevocationList{crlOf(t, p.root, at.Add(-time.Hour), at.Add(time.Hour))}
	r, err = Chain(p.leaf.cert, o)
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
	if r.Elements[0].Revocation != nil || r.Elements[1].Revocation == nil || r.Elements[1].Revocation.Status != RevGood {
		t.Errorf("revocation: leaf %+v, issuing CA %+v", r.Elements[0].Revocation, r.Elements[1].Revocation)
	}
}

// An AD CS qualified-subordination CA carries DirectoryName constraints;
// Windows enforces them and so does Chain (crypto/x509 cannot).
func TestChainDirectoryNameConstraints(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	tmpl := caTmpl("Contoso Constrained")
	tmpl.ExtraExtensions = []pkix.Extension{dnConstraint(t, pkix.Name{Organization: []string{"Contoso"}})}
	ica := issue(t, tmpl, root, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica, nil)
	if err := goVerify(root, ica, leaf, "cmg.contoso.com"); err == nil {
		t.Fatal("crypto/x509 accepted the DirectoryName constraint; the test no longer shows the divergence")
	}
	r, err := Chain(leaf.cert, pki{root, ica, leaf}.opts())
	wantOK(t, r, err, "cmg.contoso.com <- Contoso Constrained <- Contoso Root")

	bad := leafTmpl("cmg.fabrikam.com", "cmg.fabrikam.com")
	bad.Subject.Organization = []string{"Fabrikam"}
	leaf = issue(t, bad, ica, nil)
	o := pki{root, ica, leaf}.opts()
	o.Name = "cmg.fabrikam.com"
	r, err = Chain(leaf.cert, o)
	wantErr(t, r, err, ReasonNameConstraints, WinInvalidName, "not in a permitted subtree")
	if !r.Elements[0].Status.Has(TrustHasNotPermittedNameConstraint) {
		t.Fatal(r.Elements[0].Status)
	}
}

func dnConstraint(t *testing.T, n pkix.Name) pkix.Extension {
	t.Helper()
	name, err := asn1Marshal(n.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	// NameConstraints { permittedSubtrees [0] { GeneralSubtree { directoryName [4] Name } } }
	dir := tlv(0xa4, name)
	sub := tlv(0x30, dir)
	perm := tlv(0xa0, sub)
	return pkix.Extension{Id: []int{2, 5, 29, 30}, Critical: true, Value: tlv(0x30, perm)}
}

func tlv(tag byte, content []byte) []byte {
	n := len(content)
	switch {
	case n < 128:
		return append([]byte{tag, byte(n)}, content...)
	case n < 256:
		return append([]byte{tag, 0x81, byte(n)}, content...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, content...)
	}
}

func TestParseUsage(t *testing.T) {
	for in, want := range map[string]string{"serverAuth": "1.3.6.1.5.5.7.3.1", "clientauth": "1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2": "1.3.6.1.4.1.311.20.2.2"} {
		got, err := ParseUsage(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseUsage(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "server-auth", "1", "1..2", "1.-2"} {
		if _, err := ParseUsage(in); err == nil {
			t.Errorf("ParseUsage(%q) accepted", in)
		}
	}
}

func asn1Marshal(v any) ([]byte, error) { return asn1.Marshal(v) }

func crlWithExt(t *testing.T, issuer *node, ext ...pkix.Extension) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(9), ThisUpdate: at.Add(-time.Hour), NextUpdate: at.Add(time.Hour), ExtraExtensions: ext}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

// The IDP of a CRL limits what it covers: a CRL for another distribution
// point, or one for CA certificates only, does not answer for the leaf.
func TestChainCRLScope(t *testing.T) {
	p := newPKI(t)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.CRLDistributionPoints = []string{"http://pki.contoso.com/issuing.crl"}
	leaf := issue(t, lt, p.ica, nil)
	idp := func(content []byte) pkix.Extension {
		return pkix.Extension{Id: []int{2, 5, 29, 28}, Critical: true, Value: tlv(0x30, content)}
	}
	uriIDP := func(u string) pkix.Extension { return idp(tlv(0xa0, tlv(0xa0, tlv(0x86, []byte(u))))) }
	for _, tc := range []struct {
		name   string
		crl    *x509.RevocationList
		detail string
	}{
		{"same_dp", crlWithExt(t, p.ica, uriIDP("http://pki.contoso.com/issuing.crl")), ""},
		{"other_dp", crlWithExt(t, p.ica, uriIDP("http://pki.contoso.com/other.crl")), "does not include the certificate's CDP"},
		{"ca_only", crlWithExt(t, p.ica, idp(tlv(0x82, []byte{0xff}))), "onlyContainsCACerts"},
		{"unknown_critical", crlWithExt(t, p.ica, pkix.Extension{Id: []int{1, 3, 6, 1, 4, 1, 55738, 1}, Critical: true, Value: []byte{5, 0}}), "unsupported critical extension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := p.opts()
			o.Revocation, o.CRLs = RevocationEndCert, []*x509.RevocationList{tc.crl}
			r, err := Chain(leaf.cert, o)
			if tc.detail == "" {
				wantOK(t, r, err, "cmg.contoso.com <- Contoso Issuing <- Contoso Root")
				return
			}
			wantErr(t, r, err, ReasonRevocationOffline, WinRevocationOffline, tc.detail)
		})
	}
}

func TestChainUnknownCriticalExtension(t *testing.T) {
	p := newPKI(t)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.ExtraExtensions = []pkix.Extension{{Id: []int{1, 3, 6, 1, 4, 1, 55738, 666, 1}, Critical: true, Value: []byte{5, 0}}}
	leaf := issue(t, lt, p.ica, nil)
	r, err := Chain(leaf.cert, p.opts())
	wantErr(t, r, err, ReasonInvalidExtension, WinCritical, "unsupported critical extension 1.3.6.1.4.1.55738.666.1")
	if !r.Elements[0].Status.Has(TrustHasNotSupportedCriticalExt) {
		t.Fatal(r.Elements[0].Status)
	}
}

// AD CS Application Policies restrict usages like an EKU (guess: Windows
// honours them; windows-trust.md section 1).
func TestChainApplicationPolicies(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	tmpl := caTmpl("Contoso Client CA")
	// SEQUENCE { SEQUENCE { OID clientAuth } }
	oid, _ := asn1.Marshal(EKUClientAuth)
	tmpl.ExtraExtensions = []pkix.Extension{{Id: []int{1, 3, 6, 1, 4, 1, 311, 21, 10}, Value: tlv(0x30, tlv(0x30, oid))}}
	ica := issue(t, tmpl, root, nil)
	leaf := issue(t, leafTmpl("cmg.contoso.com", "cmg.contoso.com"), ica, nil)
	r, err := Chain(leaf.cert, pki{root, ica, leaf}.opts())
	wantErr(t, r, err, ReasonWrongUsage, WinWrongUsage, "application policies (clientAuth) do not allow serverAuth")
}

// goVerify is crypto/x509's verdict on root -> ica -> leaf, for tests that
// show where Chain departs from it.
func goVerify(root, ica, leaf *node, name string) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.cert)
	inter.AddCert(ica.cert)
	_, err := leaf.cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, DNSName: name})
	return err
}

// TestChainNames: every expected name (Name, then Names) is matched; Name
// is the first that fails and the chain error reports it; NameMismatches
// lists each failing name once.
func TestChainNames(t *testing.T) {
	p := newPKI(t)
	p.leaf = issue(t, leafTmpl("mp.contoso.com", "mp.contoso.com", "mp01.corp.contoso.com"), p.ica, nil)
	o := p.opts()
	o.Name, o.Usages = "", nil
	o.Names = []string{"mp.contoso.com", "MP01.corp.contoso.com", "mp.contoso.com"}
	r, err := Chain(p.leaf.cert, o)
	wantOK(t, r, err, "mp.contoso.com <- Contoso Issuing <- Contoso Root")
	if len(r.Names) != 2 || r.Name == nil || r.Name.Name != "mp.contoso.com" || len(r.NameMismatches()) != 0 {
		t.Fatalf("names %+v name %+v", r.Names, r.Name)
	}
	o.Names = append(o.Names, "sccm.contoso.com", "mp02.corp.contoso.com")
	r, err = Chain(p.leaf.cert, o)
	wantErr(t, r, err, ReasonNameMismatch, WinNameMismatch, `"sccm.contoso.com" matches no DNS SAN`)
	var got []string
	for _, nc := range r.NameMismatches() {
		got = append(got, nc.Name)
	}
	if strings.Join(got, ",") != "sccm.contoso.com,mp02.corp.contoso.com" || r.Name.Name != "sccm.contoso.com" {
		t.Fatalf("mismatches %v, name %+v", got, r.Name)
	}
}
