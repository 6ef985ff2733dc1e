package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// Every report the tests of this package make fails loudly on a finding
// whose ID is neither catalogued nor a registered rule.
func init() {
	UnknownFinding = func(id string) {
		panic(fmt.Sprintf("verify: finding %q is neither in Catalogue nor a registered rule: add its catalogue entry", id))
	}
}

// TestRulesCatalogueIDs: the catalogue has one chain_ entry per reason, entries
// with a description, a source and a fix, no ID shared with a rule, and
// chain errors with their Windows error.
func TestRulesCatalogueIDs(t *testing.T) {
	for _, r := range chainReasons {
		e, ok := LookupFinding("chain_" + string(r))
		if !ok || e.Windows == nil || *e.Windows != r.Windows() {
			t.Errorf("chain_%s: %+v", r, e)
		}
	}
	for _, e := range Catalogue() {
		if e.Description == "" || e.Source == "" || e.Fix == "" || e.Subject == "" || e.Level <= lint.Pass {
			t.Errorf("incomplete entry %+v", e)
		}
		if registeredRules()[e.ID] {
			t.Errorf("%s is both a catalogue entry and a rule", e.ID)
		}
		if e.Level < lint.Error && e.Windows != nil && e.ID != "crl_idp_indirect" {
			t.Errorf("%s: a %s names a Windows error", e.ID, e.Level)
		}
	}
}

// checkReport asserts what every report must hold: each finding has a fix
// and a source, each chain error its Windows error, and no name prints
// as a raw OID.
func checkReport(t *testing.T, name string, rep *Report) map[string]Finding {
	t.Helper()
	got := map[string]Finding{}
	for _, f := range rep.Findings {
		got[f.ID] = f
		if f.Fix == "" || f.Source == "" {
			t.Errorf("%s: finding %s without fix or source: %+v", name, f.ID, f)
		}
		if strings.HasPrefix(f.ID, "chain_") && f.Level == lint.Error && f.Windows == nil {
			t.Errorf("%s: chain error %s without a Windows error", name, f.ID)
		}
		if strings.Contains(f.Message, "0.9.2342.19200300.100.1.25") {
			t.Errorf("%s: %s prints a DC as an OID: %s", name, f.ID, f.Message)
		}
	}
	return got
}

// dcTmpl is a CA template whose subject ends in DC=contoso,DC=com.
func dcTmpl(cn string) *x509.Certificate {
	tm := caTmpl(cn)
	dc := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	ia5 := func(s string) asn1.RawValue { return asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(s)} }
	raw, err := asn1.Marshal(pkix.RDNSequence{{{Type: dc, Value: ia5("com")}}, {{Type: dc, Value: ia5("contoso")}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: cn}}})
	if err != nil {
		panic(err)
	}
	tm.RawSubject = raw
	return tm
}

// TestVerifyReportPathsComplete runs the main report paths (certificates that are
// SHA-1, expired, not yet valid, revoked, revocation offline, of the wrong
// usage, of the wrong name, a root; an endpoint without its intermediate;
// CheckCRL cases; a selection without a certificate) and checks that every
// finding is known (UnknownFinding), has a fix and a source, and that the
// pairs reporting one problem twice are merged.
func TestVerifyReportPathsComplete(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	icaT := dcTmpl("Contoso Issuing CA")
	icaT.SubjectKeyId = []byte{1, 2, 3, 4}
	ica := issue(t, icaT, root, nil)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaICA := issue(t, caTmpl("Contoso RSA Issuing"), root, rsaKey)
	leaf := func(mod func(*x509.Certificate), parent *node) *x509.Certificate {
		tm := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
		tm.CRLDistributionPoints = []string{"http://pki.contoso.com/issuing.crl"}
		tm.IssuingCertificateURL = []string{"http://pki.contoso.com/issuing.crt"}
		if mod != nil {
			mod(tm)
		}
		if parent == nil {
			parent = ica
		}
		return issue(t, tm, parent, nil).cert
	}
	revoked := leaf(nil, nil)
	crl := crlOf(t, ica, at.Add(-time.Hour), at.Add(7*24*time.Hour), revoked)
	rsaCRL := crlOf(t, rsaICA, at.Add(-time.Hour), at.Add(7*24*time.Hour))
	type tc struct {
		name    string
		cert    *x509.Certificate
		opts    func(*CertOptions)
		want    []string
		notWant []string
	}
	rootCRL := crlOf(t, root, at.Add(-time.Hour), at.Add(7*24*time.Hour))
	crls := func(o *CertOptions) {
		o.CRLs = []*x509.RevocationList{crl, rsaCRL, rootCRL}
		o.Revocation = RevocationChainExcludeRoot
	}
	cases := []tc{
		{"sha1", leaf(func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA1WithRSA }, rsaICA), crls,
			[]string{"e_signature_not_sha2"}, []string{"sha1_signature", "chain_bad_signature"}},
		{"expired", leaf(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = at.Add(-48*time.Hour), at.Add(-time.Hour) }, nil), crls,
			[]string{"chain_expired"}, []string{"e_not_valid_at", "chain_not_yet_valid"}},
		{"not_yet_valid", leaf(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = at.Add(time.Hour), at.Add(48*time.Hour) }, nil), crls,
			[]string{"chain_not_yet_valid"}, []string{"e_not_valid_at", "chain_expired"}},
		{"revoked", revoked, crls, []string{"chain_revoked"}, nil},
		{"offline", leaf(nil, nil), func(o *CertOptions) { o.Revocation = RevocationChainExcludeRoot }, []string{"chain_revocation_offline"}, nil},
		{"revocation_off", leaf(nil, nil), nil, []string{"revocation_off"}, nil},
		{"wrong_usage", leaf(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, nil),
			func(o *CertOptions) { crls(o); o.Profile = "cmg-server" }, []string{"chain_wrong_usage"}, nil},
		{"name_mismatch", leaf(nil, nil), func(o *CertOptions) { crls(o); o.Name = "other.contoso.com" }, []string{"chain_name_mismatch"}, nil},
		{"incomplete_with_aia", leaf(nil, nil), func(o *CertOptions) { o.Intermediates = nil }, []string{"e_chain_incomplete"}, []string{"chain_partial_chain"}},
		{"root", root.cert, crls, nil, []string{"revocation_not_checked_for_role"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := CertOptions{ChainOptions: ChainOptions{Roots: []*x509.Certificate{root.cert},
				Intermediates: []*x509.Certificate{ica.cert, rsaICA.cert}, At: at}}
			if c.opts != nil {
				c.opts(&o)
			}
			rep, err := CheckCertificate(context.Background(), CertInput{Bundle: &certio.Bundle{Name: c.name + ".pem", Format: certio.FormatPEM, Certs: []*x509.Certificate{c.cert}}}, o)
			if err != nil {
				t.Fatal(err)
			}
			got := checkReport(t, c.name, rep)
			for _, id := range c.want {
				if _, ok := got[id]; !ok {
					t.Errorf("lacks %s: %+v", id, rep.Findings)
				}
			}
			for _, id := range c.notWant {
				if _, ok := got[id]; ok {
					t.Errorf("has %s: %+v", id, rep.Findings)
				}
			}
			if f, ok := got["e_signature_not_sha2"]; ok && f.Windows != nil {
				t.Errorf("e_signature_not_sha2 names %s: Windows accepts SHA-1 under an enterprise root", f.Windows.Name)
			}
			if f, ok := got["e_chain_incomplete"]; ok && !strings.Contains(f.Message+f.Fix, "--aia-fetch") {
				t.Errorf("e_chain_incomplete does not point to --aia-fetch: %+v", f)
			}
			if f, ok := got["chain_not_yet_valid"]; ok && (f.Windows == nil || *f.Windows != WinExpired) {
				t.Errorf("chain_not_yet_valid: %+v", f.Windows)
			}
			if c.cert.Issuer.CommonName == "Contoso Issuing CA" && rep.Certificate.Issuer != "CN=Contoso Issuing CA,DC=contoso,DC=com" {
				t.Errorf("issuer %q, want the DC attributes by name", rep.Certificate.Issuer)
			}
			if c.cert.Issuer.CommonName == "Contoso Issuing CA" && len(rep.Chain.Elements) > 1 && rep.Chain.Elements[1].Subject != "CN=Contoso Issuing CA,DC=contoso,DC=com" {
				t.Errorf("element subject %q", rep.Chain.Elements[1].Subject)
			}
		})
	}

	t.Run("endpoint_missing_intermediate", func(t *testing.T) {
		lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
		srvLeaf := issue(t, lt, ica, nil)
		srv := newTLSServer(t, srvLeaf, nil, nil)
		rep, _ := CheckEndpoint(context.Background(), EndpointCheckOptions{EndpointOptions: EndpointOptions{URL: "https://cmg.contoso.com:" + srv.port(),
			Connect: srv.Listener.Addr().String(), ChainOptions: ChainOptions{Roots: []*x509.Certificate{root.cert}, At: at}}})
		if rep == nil {
			t.Fatal("no report")
		}
		if got := checkReport(t, "endpoint", rep); got["missing_intermediate"].ID == "" {
			t.Errorf("no missing_intermediate: %+v", rep.Findings)
		}
		for _, p := range rep.Endpoint.Presented {
			if strings.Contains(p.Issuer, "0.9.2342") {
				t.Errorf("presented issuer %q", p.Issuer)
			}
		}
	})
	t.Run("crl", func(t *testing.T) {
		from, to := at.Add(-time.Hour), at.Add(7*24*time.Hour)
		for name, c := range map[string]struct {
			der    []byte
			issuer *x509.Certificate
		}{
			"good": {madeCRL(t, ica, from, to, nil), ica.cert}, "malformed": {[]byte("x"), ica.cert},
			"expired":   {madeCRL(t, ica, at.Add(-48*time.Hour), at.Add(-time.Hour), nil), ica.cert},
			"no_issuer": {madeCRL(t, ica, from, to, []int64{5, 3}), nil}, "other_issuer": {madeCRL(t, root, from, to, nil), ica.cert},
		} {
			rep := CRLCheckReport(c.der, c.issuer, at, name+".crl", false)
			checkReport(t, "crl "+name, rep)
			if name == "other_issuer" && (rep.CRL.Issuer != "CN=Contoso Root,O=Contoso" || !strings.Contains(rep.Findings[0].Message+rep.Findings[1].Message+rep.Findings[2].Message, "DC=contoso,DC=com")) {
				t.Errorf("names: %q %+v", rep.CRL.Issuer, rep.Findings)
			}
		}
	})
	t.Run("selection_none", func(t *testing.T) {
		rep := SelectionReport(nil, SelectionOptions{At: at, Roots: []*x509.Certificate{root.cert}})
		if got := checkReport(t, "selection", rep); got["selection_none"].ID == "" {
			t.Errorf("findings %+v", rep.Findings)
		}
	})
}
