package verify

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// TestChooseProfileAuto: each documented rule of AutoRules picks its role
// and says why.
func TestChooseProfileAuto(t *testing.T) {
	root := issue(t, caTmpl("Contoso Root"), nil, nil)
	ica := issue(t, caTmpl("Contoso Issuing"), root, nil)
	wpjCA := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "MS-Organization-Access"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	leaf := func(cn string, eku []x509.ExtKeyUsage, dns ...string) *x509.Certificate {
		tm := leafTmpl(cn, dns...)
		tm.ExtKeyUsage = eku
		return issue(t, tm, ica, nil).cert
	}
	srv, cli := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth
	device := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "8b3d7fe4-b95e-473f-a535-a1d33dc702e8"},
		ExtKeyUsage: []x509.ExtKeyUsage{cli}}, wpjCA, nil).cert
	for _, tc := range []struct {
		name   string
		cert   *x509.Certificate
		server bool
		want   string
		why    string
	}{
		{"root", root.cert, false, "root-ca", "self-signed"},
		{"issuing", ica.cert, false, "issuing-ca", "issued by another CA"},
		{"wpj ca", wpjCA.cert, false, "wpj-ca", "MS-Organization-Access"},
		{"wpj device", device, false, "wpj-device", "issued by MS-Organization-Access"},
		{"ocsp signer", leaf("ocsp.contoso.com", []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}), false, "ocsp-signer", "OCSP signing"},
		{"computer template", leaf("client01.contoso.com", []x509.ExtKeyUsage{cli, srv}, "client01.contoso.com"), false, "pki-client", "Computer template"},
		{"cmg one name", leaf("cmg.contoso.com", []x509.ExtKeyUsage{srv}, "cmg.contoso.com"), false, "cmg-server", "valid CMG service name"},
		{"cmg wildcard", leaf("*.contoso.com", []x509.ExtKeyUsage{srv}, "*.contoso.com"), false, "cmg-server", "wildcard"},
		{"one name, bad prefix", leaf("mp.contoso.com", []x509.ExtKeyUsage{srv}, "mp.contoso.com"), false, "mp-https", "not a valid CMG service name"},
		{"mp two names", leaf("mp.contoso.com", []x509.ExtKeyUsage{srv}, "mp.contoso.com", "mp01.corp.contoso.com"), false, "mp-https", "2 DNS names"},
		{"client", leaf("client01.contoso.com", []x509.ExtKeyUsage{cli}), false, "pki-client", "cmg-connection-point"},
		{"no role EKU", leaf("x.contoso.com", []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}), false, "none", "no ConfigMgr role EKU"},
		{"endpoint, client EKU", leaf("cmg.contoso.com", []x509.ExtKeyUsage{cli}, "cmg.contoso.com"), true, "cmg-server", "endpoint presents it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p, err := ChooseProfile(tc.cert, "auto", tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tc.want || c.How != "auto" || !strings.Contains(c.Reason, tc.why) {
				t.Errorf("got %+v, want %s because %q", c, tc.want, tc.why)
			}
			if (p == nil) != (tc.want == "none") || p != nil && string(p.Role) != tc.want {
				t.Errorf("profile %v", p)
			}
		})
	}
	if c, p, err := ChooseProfile(root.cert, "none", false); err != nil || p != nil || c.How != "none" {
		t.Errorf("none: %+v %v %v", c, p, err)
	}
	if c, _, err := ChooseProfile(root.cert, "mp-https", false); err != nil || c.How != "given" || c.Name != "mp-https" {
		t.Errorf("given: %+v %v", c, err)
	}
	if _, _, err := ChooseProfile(root.cert, "pki-client", true); err == nil || !strings.Contains(err.Error(), "not a server role") {
		t.Errorf("client profile for an endpoint: %v", err)
	}
	if _, _, err := ChooseProfile(root.cert, "web", false); err == nil {
		t.Error("unknown profile accepted")
	}
}

// TestCheckCertificateMergesFindings: chain errors (the ChainError and the
// other elements' problems), profile rules and input findings land in one
// report, most severe first, each with its origin.
func TestCheckCertificateMergesFindings(t *testing.T) {
	p := newPKI(t)
	expiredICA := caTmpl("Old Issuing")
	expiredICA.NotAfter = at.Add(-time.Hour)
	ica := issue(t, expiredICA, p.root, nil)
	tm := leafTmpl("mp.contoso.com", "mp.contoso.com")
	tm.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	leaf := issue(t, tm, ica, nil)
	otherKey := ecKey(t)
	in := CertInput{Bundle: &certio.Bundle{Name: "leaf.pem", Format: certio.FormatPEM, Certs: []*x509.Certificate{leaf.cert, ica.cert}}, Key: otherKey, KeyFile: "other.key"}
	rep, err := CheckCertificate(context.Background(), in, CertOptions{ChainOptions: ChainOptions{Roots: []*x509.Certificate{p.root.cert}, At: at}, Profile: "mp-https"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.ID] = f.Origin
	}
	for id, origin := range map[string]string{
		"chain_expired":     OriginChain,   // the intermediate: the ChainError
		"chain_wrong_usage": OriginChain,   // the leaf: serverAuth required by mp-https
		"e_eku_missing":     OriginProfile, // the role's rule
		"e_key_mismatch":    OriginInput,
		"revocation_off":    OriginChain,
	} {
		if got[id] != origin {
			t.Errorf("finding %s: origin %q, want %q (all: %v)", id, got[id], origin, got)
		}
	}
	if rep.Findings[0].Level != lint.Error || rep.Findings[len(rep.Findings)-1].Level != lint.Notice || rep.MaxLevel != "error" {
		t.Errorf("order or max: %+v %s", rep.Findings, rep.MaxLevel)
	}
	if rep.Profile.Name != "mp-https" || rep.Profile.How != "given" || strings.Join(rep.Profile.Usages, ",") != "serverAuth" {
		t.Errorf("profile %+v", rep.Profile)
	}
	for _, f := range rep.Findings {
		if f.ID == "chain_expired" && (f.Windows == nil || f.Windows.HRESULT != 0x800B0101 || f.Windows.WinHTTP != 12037) {
			t.Errorf("expired without its Windows error: %+v", f)
		}
	}
	b, _ := json.Marshal(NewReportSet("cert", []*Report{rep}, lint.Error))
	for _, want := range []string{`"schema":"cmgpki/verify/v1"`, `"command":"cert"`, `"kind":"cert"`, `"hresult":"0x800B0101"`,
		`"level":"error"`, `"origin":"profile"`, `"failed":true`, `"key_matches":false`, `"trust_status":{"value"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

// TestInputFindingsPFXWithoutKey: a PFX bundle without its key is an error
// finding of origin input.
func TestInputFindingsPFXWithoutKey(t *testing.T) {
	p := newPKI(t)
	in := CertInput{Bundle: &certio.Bundle{Name: "no-key.pfx", Format: certio.FormatPKCS12, Certs: []*x509.Certificate{p.leaf.cert}}}
	rep, err := CheckCertificate(context.Background(), in, CertOptions{ChainOptions: p.opts(), Profile: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "e_pfx_no_private_key" || rep.Findings[0].Origin != OriginInput || rep.Findings[0].Level != lint.Error {
		t.Errorf("findings %+v", rep.Findings)
	}
	if rep.Input.HasKey || rep.Input.KeyMatches != nil {
		t.Errorf("input %+v", rep.Input)
	}
}
