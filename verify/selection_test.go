package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
)

const day24 = 24 * time.Hour

// selPKI is Contoso Root -> Contoso Issuing, and a second trusted root
// (Fabrikam Root) that is not in the issuers list.
type selPKI struct{ root, ica, other *node }

func newSelPKI(t *testing.T) selPKI {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	ica := issue(t, caTmpl("Contoso Issuing"), root, nil)
	other := issue(t, caTmpl("Fabrikam Root"), nil, nil)
	return selPKI{root, ica, other}
}

// clientTmpl is a Workstation Authentication certificate for cn.
func clientTmpl(cn string, mod ...func(*x509.Certificate)) *x509.Certificate {
	c := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, OrganizationalUnit: []string{"Computers"}, Organization: []string{"Contoso"}},
		DNSNames:    []string{cn},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func (p selPKI) opts(t *testing.T, issuers string) SelectionOptions {
	t.Helper()
	is, err := ParseCertificateIssuers(issuers)
	if err != nil {
		t.Fatal(err)
	}
	return SelectionOptions{At: at, Issuers: is, Roots: []*x509.Certificate{p.root.cert, p.other.cert},
		Intermediates: []*x509.Certificate{p.ica.cert}, ComputerName: "CLIENT01"}
}

func cand(name string, n *node) Candidate { return Candidate{Name: name, Cert: n.cert, HasKey: true} }

type wantExcl struct {
	step     SelectionStep
	observed string // substring of Observed
}

func checkSelection(t *testing.T, res SelectionResult, chosen string, want map[string]wantExcl) {
	t.Helper()
	got := ""
	if s := res.Selected(); s != nil {
		got = s.Name
	}
	if got != chosen {
		t.Errorf("selected %q, want %q (error %q)", got, chosen, res.Error)
	}
	for _, c := range res.Candidates {
		if c.Name == chosen {
			if c.Excluded != nil || !c.Selected {
				t.Errorf("%s: chosen but %+v", c.Name, c.Excluded)
			}
			continue
		}
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("%s: no expectation", c.Name)
			continue
		}
		if c.Excluded == nil {
			t.Errorf("%s: not excluded, want step %d", c.Name, w.step)
			continue
		}
		if c.Excluded.Step != w.step || !strings.Contains(c.Excluded.Observed, w.observed) {
			t.Errorf("%s: excluded at step %d (%s): observed %q, expected %q; want step %d with %q",
				c.Name, c.Excluded.Step, c.Excluded.StepName, c.Excluded.Observed, c.Excluded.Expected, w.step, w.observed)
		}
		if c.Excluded.Source == "" || c.Excluded.Expected == "" || c.Excluded.StepName != c.Excluded.Step.String() {
			t.Errorf("%s: exclusion without expected value, source or step name: %+v", c.Name, c.Excluded)
		}
	}
}

// TestSelectClientCertificateOrder gives one candidate per step and checks
// that each is excluded by its own step and the good one wins.
func TestSelectClientCertificateOrder(t *testing.T) {
	p := newSelPKI(t)
	good := issue(t, clientTmpl("client01.contoso.com"), p.ica, nil)
	expired := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = at.Add(-400*day24), at.Add(-10*day24)
	}), p.ica, nil)
	serverOnly := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}), p.ica, nil)
	noDigSig := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageKeyEncipherment
	}), p.ica, nil)
	wrongIssuer := issue(t, clientTmpl("client01.contoso.com"), p.other, nil)
	otherName := issue(t, clientTmpl("client02.contoso.com", func(c *x509.Certificate) {
		c.DNSNames = []string{"client02.contoso.com", "client01.contoso.com"}
	}), p.ica, nil)
	untrusted := issue(t, caTmpl("Rogue Root"), nil, nil)
	rogue := issue(t, clientTmpl("client01.contoso.com"), untrusted, nil)
	certs := []Candidate{
		cand("expired.pfx", expired),
		cand("server-only.pfx", serverOnly),
		cand("wrong-issuer.pfx", wrongIssuer),
		{Name: "rogue.pfx", Cert: rogue.cert, HasKey: true, Intermediates: []*x509.Certificate{untrusted.cert}},
		cand("no-digsig.pfx", noDigSig),
		{Name: "no-key.cer", Cert: good.cert},
		{Name: "other-store.pfx", Cert: good.cert, HasKey: true, Store: "WebHosting"},
		cand("client02.pfx", otherName),
		cand("good.pfx", good),
	}
	res := SelectClientCertificate(certs, p.opts(t, "CN=Contoso Root; O=Contoso"))
	checkSelection(t, res, "good.pfx", map[string]wantExcl{
		"expired.pfx":      {StepValid, "expired on"},
		"server-only.pfx":  {StepClientAuth, "EKUs are [serverAuth]"},
		"wrong-issuer.pfx": {StepIssuers, `root "CN=Fabrikam Root, O=Contoso"`},
		"rogue.pfx":        {StepIssuers, "does not reach a trusted root"},
		"no-digsig.pfx":    {StepClientAuth, "without digitalSignature"},
		"no-key.cer":       {StepValid, "no private key"},
		"other-store.pfx":  {StepStore, `in store "WebHosting"`},
		"client02.pfx":     {StepSubject, `the SAN "client01.contoso.com" does, but the client looks in the Subject`},
	})
	if w := res.Candidates[3].Excluded.Windows; w == nil || w.Name != "CERT_E_UNTRUSTEDROOT" {
		t.Errorf("rogue: Windows error %v, want CERT_E_UNTRUSTEDROOT", w)
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		for _, c := range res.Candidates {
			if c.Excluded != nil {
				t.Logf("%-16s step %d %-11s observed: %s; expected: %s [%s]", c.Name, c.Excluded.Step, c.Excluded.StepName, c.Excluded.Observed, c.Excluded.Expected, c.Excluded.Source)
			}
		}
	}
	if !strings.Contains(string(js), `"step_name": "client_auth"`) || !strings.Contains(string(js), `"selected": true`) {
		t.Errorf("JSON lacks step names or the selection:\n%.2000s", js)
	}

	// Without an issuers list, an untrusted root is a step 3 failure (the
	// chain is not valid), and any trusted root passes step 1.
	o := p.opts(t, "")
	res = SelectClientCertificate([]Candidate{certs[3], cand("wrong-issuer.pfx", wrongIssuer)}, o)
	checkSelection(t, res, "wrong-issuer.pfx", map[string]wantExcl{"rogue.pfx": {StepValid, "Rogue Root"}})
	if w := res.Candidates[0].Excluded.Windows; w == nil || w.Name != "CERT_E_UNTRUSTEDROOT" {
		t.Errorf("rogue without issuers list: Windows error %v", w)
	}
}

func TestSelectClientCertificateRevoked(t *testing.T) {
	p := newSelPKI(t)
	withCDP := func(c *x509.Certificate) { c.CRLDistributionPoints = []string{"http://pki.contoso.com/issuing.crl"} }
	good := issue(t, clientTmpl("client01.contoso.com", withCDP), p.ica, nil)
	revoked := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) { c.NotAfter = at.Add(900 * day24) }), p.ica, nil)
	noPointer := issue(t, clientTmpl("client01.contoso.com"), p.ica, nil)
	o := p.opts(t, "CN=Contoso Root,O=Contoso")
	o.Revocation = RevocationChainExcludeRoot
	o.CRLs = []*x509.RevocationList{crlOf(t, p.ica, at.Add(-day24), at.Add(7*day24), revoked.cert), crlOf(t, p.root, at.Add(-day24), at.Add(7*day24))}
	res := SelectClientCertificate([]Candidate{cand("revoked.pfx", revoked), cand("good.pfx", good)}, o)
	checkSelection(t, res, "good.pfx", map[string]wantExcl{"revoked.pfx": {StepValid, "revoked"}})
	if w := res.Candidates[0].Excluded.Windows; w == nil || w.Name != "CRYPT_E_REVOKED" {
		t.Errorf("revoked: Windows error %v", w)
	}
	// Without the CRLs, revocation is offline: nothing is selected.
	o.CRLs = nil
	res = SelectClientCertificate([]Candidate{cand("good.pfx", good)}, o)
	checkSelection(t, res, "", map[string]wantExcl{"good.pfx": {StepValid, ""}})
	if w := res.Candidates[0].Excluded.Windows; w == nil || w.Name != "CRYPT_E_REVOCATION_OFFLINE" {
		t.Errorf("offline: Windows error %v", w)
	}
	if !strings.Contains(res.Error, "the client stops here") {
		t.Errorf("error %q", res.Error)
	}
	// Without any CDP or OCSP URL, revocation cannot be checked at all.
	res = SelectClientCertificate([]Candidate{cand("nopointer.pfx", noPointer)}, o)
	checkSelection(t, res, "", map[string]wantExcl{"nopointer.pfx": {StepValid, ""}})
	if w := res.Candidates[0].Excluded.Windows; w == nil || w.Name != "CRYPT_E_NO_REVOCATION_CHECK" || w.HRESULT != 0x80092012 {
		t.Errorf("no pointer: Windows error %v", w)
	}
}

func TestSelectClientCertificateMultiple(t *testing.T) {
	p := newSelPKI(t)
	oneYear := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = at.Add(-day24), at.Add(364*day24)
	}), p.ica, nil)
	twoYears := issue(t, clientTmpl("client01.contoso.com", func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = at.Add(-300*day24), at.Add(430*day24)
	}), p.ica, nil)
	certs := []Candidate{cand("one-year.pfx", oneYear), cand("two-years.pfx", twoYears)}
	res := SelectClientCertificate(certs, p.opts(t, ""))
	checkSelection(t, res, "two-years.pfx", map[string]wantExcl{"one-year.pfx": {StepMultiple, "validity period 365 days"}})
	if ex := res.Candidates[0].Excluded; !strings.Contains(ex.Expected, `"two-years.pfx" has 730 days`) || ex.Source != SourceProps {
		t.Errorf("expected %q, source %q", ex.Expected, ex.Source)
	}

	o := p.opts(t, "")
	o.OnMultiple = FailOnMultiple
	res = SelectClientCertificate(certs, o)
	checkSelection(t, res, "", map[string]wantExcl{"one-year.pfx": {StepMultiple, "one of 2"}, "two-years.pfx": {StepMultiple, "one of 2"}})
	if !strings.Contains(res.Error, "FailSelectionAndSendErrorMessage") {
		t.Errorf("error %q", res.Error)
	}
}

func TestSelectClientCertificateCriteria(t *testing.T) {
	p := newSelPKI(t)
	// Subject "CN=ws-4711.corp.contoso.com, OU=Computers, O=Contoso",
	// SAN ws-4711.corp.contoso.com: the computer name CLIENT01 appears
	// nowhere, so only the criteria can select it.
	ws := issue(t, clientTmpl("ws-4711.corp.contoso.com"), p.ica, nil)
	other := issue(t, clientTmpl("ws-4712.corp.contoso.com", func(c *x509.Certificate) {
		c.Subject.OrganizationalUnit = []string{"Servers"}
	}), p.ica, nil)
	certs := []Candidate{cand("ws.pfx", ws), cand("other.pfx", other)}
	for _, tc := range []struct {
		criteria string
		chosen   string
		want     map[string]wantExcl
	}{
		{"", "", map[string]wantExcl{"ws.pfx": {StepSubject, `does not contain "CLIENT01"`}, "other.pfx": {StepSubject, `does not contain "CLIENT01"`}}},
		{"SubjectStr:WS-4711", "ws.pfx", map[string]wantExcl{"other.pfx": {StepSubject, `Subject "CN=ws-4712.corp.contoso.com, OU=Servers, O=Contoso"`}}},
		{"subjectstr:ou=computers", "ws.pfx", map[string]wantExcl{"other.pfx": {StepSubject, "ws-4712"}}},
		{"SubjectAttr:2.5.4.11 = Computers", "ws.pfx", map[string]wantExcl{"other.pfx": {StepSubject, `OU (2.5.4.11) is ["Servers"]`}}},
		{"SubjectAttr:OU=Servers", "other.pfx", map[string]wantExcl{"ws.pfx": {StepSubject, `OU (2.5.4.11) is ["Computers"]`}}},
		// SubjectAttr is case-sensitive.
		{"SubjectAttr:2.5.4.11 = computers", "", map[string]wantExcl{"ws.pfx": {StepSubject, `["Computers"]`}, "other.pfx": {StepSubject, `["Servers"]`}}},
		{"SubjectAttr:2.5.29.17 = ws-4712.corp.contoso.com", "other.pfx", map[string]wantExcl{"ws.pfx": {StepSubject, `SAN (2.5.29.17) is ["ws-4711.corp.contoso.com"]`}}},
		{"SubjectAttr:2.5.4.5 = 42", "", map[string]wantExcl{"ws.pfx": {StepSubject, "no SERIALNUMBER (2.5.4.5) attribute"}, "other.pfx": {StepSubject, "no SERIALNUMBER"}}},
		// Subject: is case-sensitive on the subject name, not on the SAN.
		{"Subject:ws-4711.corp.contoso.com", "ws.pfx", map[string]wantExcl{"other.pfx": {StepSubject, "ws-4712"}}},
		{"Subject:WS-4711.CORP.CONTOSO.COM", "ws.pfx", map[string]wantExcl{"other.pfx": {StepSubject, "ws-4712"}}},
		{"Subject:CN=ws-4712.corp.contoso.com, OU=Servers, O=Contoso", "other.pfx", map[string]wantExcl{"ws.pfx": {StepSubject, "ws-4711"}}},
		{"Subject:Contoso Servers", "", map[string]wantExcl{"ws.pfx": {StepSubject, "ws-4711"}, "other.pfx": {StepSubject, "ws-4712"}}},
	} {
		t.Run(tc.criteria, func(t *testing.T) {
			crit, err := ParseSelectionCriteria(tc.criteria)
			if err != nil {
				t.Fatal(err)
			}
			o := p.opts(t, "")
			o.Criteria = crit
			checkSelection(t, SelectClientCertificate(certs, o), tc.chosen, tc.want)
		})
	}
}

func TestParseSelectionCriteria(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind CriteriaKind
		attr string
		val  string
		err  string
	}{
		{"", CriteriaComputerName, "", "", ""},
		{"SubjectStr:Contoso", CriteriaSubjectStr, "", "Contoso", ""},
		{"Subject: client01.contoso.com ", CriteriaSubject, "", "client01.contoso.com", ""},
		{"SubjectAttr:2.5.4.11 = Computers", CriteriaSubjectAttr, "2.5.4.11", "Computers", ""},
		{"SubjectAttr:ou=Computers", CriteriaSubjectAttr, "2.5.4.11", "Computers", ""},
		{"SubjectAttr:SAN = a.contoso.com", CriteriaSubjectAttr, "2.5.29.17", "a.contoso.com", ""},
		{"Contoso", 0, "", "", `verify: selection criteria "Contoso": want SubjectStr:TEXT, Subject:TEXT or SubjectAttr:OID = VALUE`},
		{"SubjectString:Contoso", 0, "", "", `unknown keyword "SubjectString" (want SubjectStr, Subject or SubjectAttr)`},
		{"SubjectStr:", 0, "", "", `verify: selection criteria "SubjectStr:": empty value`},
		{"SubjectAttr:Computers", 0, "", "", "SubjectAttr needs OID = VALUE"},
		{"SubjectAttr:Department = IT", 0, "", "", `unknown attribute "Department"`},
		{"SubjectAttr:2.5.4.11 =", 0, "", "", "empty value"},
	} {
		c, err := ParseSelectionCriteria(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case c.Kind != tc.kind || c.Attr != tc.attr || c.Value != tc.val:
			t.Errorf("%q: got %+v", tc.in, c)
		}
	}
}

func TestParseCertificateIssuers(t *testing.T) {
	is, err := ParseCertificateIssuers("CN=Contoso Root CA; OU=Servers; O=Contoso, Ltd; L=Redmond; S=Washington; C=US|CN=Fabrikam Root,DC=fabrikam,DC=com")
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, n := range is {
		for _, a := range n.Attrs {
			got += a.Type + "=" + a.Value + ";"
		}
		got += "|"
	}
	want := "CN=Contoso Root CA;OU=Servers;O=Contoso, Ltd;L=Redmond;S=Washington;C=US;|CN=Fabrikam Root;DC=fabrikam;DC=com;|"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	for in, msg := range map[string]string{
		"CN=A||CN=B":      "root 2 is empty",
		"Contoso Root":    `"Contoso Root" is not an attribute (want TYPE=value)`,
		"Department=IT":   `unknown attribute "Department"`,
		"CN=A|, CN=B":     `is not an attribute`,
		"   ":             "",
		"CN=A ; ST=Texas": "",
	} {
		_, err := ParseCertificateIssuers(in)
		if msg == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", in, err, msg)
		}
	}
	// The match is on every attribute of the root, case-sensitively.
	p := newSelPKI(t)
	for list, ok := range map[string]bool{
		"CN=Contoso Root, O=Contoso": true, "O=Contoso;CN=Contoso Root": true, "CN=contoso root, O=Contoso": false,
		"CN=Contoso Root": false, "CN=Contoso Root, O=Contoso, C=US": false,
	} {
		is, err := ParseCertificateIssuers(list)
		if err != nil {
			t.Fatal(err)
		}
		if matchIssuer(p.root.cert, is[0]) != ok {
			t.Errorf("%q: match %v, want %v", list, !ok, ok)
		}
	}
}

func TestSelectClientCertificateOptions(t *testing.T) {
	p := newSelPKI(t)
	good := issue(t, clientTmpl("client01.contoso.com"), p.ica, nil)
	o := p.opts(t, "")
	o.At = time.Time{}
	if res := SelectClientCertificate([]Candidate{cand("good.pfx", good)}, o); res.Error != "verify: SelectionOptions.At is required" || res.Selected() != nil {
		t.Errorf("zero At: %q", res.Error)
	}
	o = p.opts(t, "")
	o.ComputerName = ""
	if res := SelectClientCertificate([]Candidate{cand("good.pfx", good)}, o); !strings.Contains(res.Error, "computer name is required") {
		t.Errorf("no computer name: %q", res.Error)
	}
	o = p.opts(t, "")
	o.Criteria, _ = ParseSelectionCriteria("SubjectStr:client 01")
	res := SelectClientCertificate([]Candidate{cand("good.pfx", good)}, o)
	if len(res.Warnings) != 1 || res.Warnings[0].Code != "criteria_spaces" {
		t.Errorf("warnings %+v", res.Warnings)
	}
}

func TestCandidateFromBundle(t *testing.T) {
	p := newSelPKI(t)
	key := ecKey(t)
	leaf := issue(t, clientTmpl("client01.contoso.com"), p.ica, key)
	// Root first, as some exports write a chain: the leaf is still found.
	c := CandidateFromBundle(&certio.Bundle{Name: "chain.pem", Certs: []*x509.Certificate{p.root.cert, p.ica.cert, leaf.cert}})
	if c.Cert != leaf.cert || c.HasKey || len(c.Intermediates) != 2 {
		t.Errorf("without key: %+v", c)
	}
	c = CandidateFromBundle(&certio.Bundle{Name: "c.pfx", Certs: []*x509.Certificate{p.ica.cert, leaf.cert}, Key: key})
	if c.Cert != leaf.cert || !c.HasKey || len(c.Intermediates) != 1 || c.Name != "c.pfx" {
		t.Errorf("with key: %+v", c)
	}
	c = CandidateFromBundle(&certio.Bundle{Name: "other.pem", Certs: []*x509.Certificate{leaf.cert}, Key: ecKey(t)})
	if c.HasKey {
		t.Error("a key of another certificate counts as the key")
	}
}
