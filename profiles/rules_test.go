package profiles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lint"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
	ecKey   *ecdsa.PrivateKey
)

func testKeys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	return rsaKey, ecKey
}

var at = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

const deviceGUID = "9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01"

// goodTemplate returns a template that satisfies every rule of role r.
func goodTemplate(t *testing.T, r Role) *x509.Certificate {
	t.Helper()
	p := MustGet(r)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1234567),
		Subject:      pkix.Name{CommonName: "host01.contoso.com"},
		NotBefore:    at.Add(-time.Hour),
		NotAfter:     at.Add(365 * 24 * time.Hour),
	}
	if err := p.Apply(tpl); err != nil {
		t.Fatal(err)
	}
	switch p.Names.Rule {
	case NamesFQDN:
		tpl.DNSNames = []string{"host01.contoso.com"}
	case NamesGUID:
		tpl.Subject.CommonName = deviceGUID
		exts, err := WPJExtensions(WPJIdentity{DeviceID: deviceGUID, InvocationID: deviceGUID, UserID: deviceGUID, DomainID: deviceGUID, JoinType: '1'})
		if err != nil {
			t.Fatal(err)
		}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, exts...)
		tpl.SubjectKeyId = []byte{}
	case NamesCAOnly:
		tpl.Subject.CommonName = "Contoso Lab CA"
	}
	if r == CMGServer {
		tpl.Subject.CommonName, tpl.DNSNames = "cmg.contoso.com", []string{"cmg.contoso.com"}
	}
	if r == OCSPSigner {
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: OIDOCSPNoCheck, Value: []byte{5, 0}})
	}
	if p.Revocation.Checked {
		tpl.CRLDistributionPoints = []string{"http://127.0.0.1:8080/crl/issuing-ca.crl"}
		tpl.IssuingCertificateURL = []string{"http://127.0.0.1:8080/ca/issuing-ca.cer"}
	}
	return tpl
}

// sign self-signs tpl with key (pub = key's public key unless pub is set).
func sign(t *testing.T, tpl *x509.Certificate, key crypto.Signer) *x509.Certificate {
	t.Helper()
	parent := tpl
	if IsGUID(tpl.Subject.CommonName) {
		// A device certificate is issued by MS-Organization-Access.
		parent = &x509.Certificate{Subject: pkix.Name{CommonName: "MS-Organization-Access"}, SubjectKeyId: []byte{1}}
	}
	c := pkitest.Certificate(t, tpl, parent, key.Public(), key)
	return c
}

func TestGoodCertificatesPassEveryRule(t *testing.T) {
	rk, _ := testKeys(t)
	for _, p := range All() {
		t.Run(string(p.Role), func(t *testing.T) {
			c := sign(t, goodTemplate(t, p.Role), rk)
			rep := Lint(c, p, lint.Env{At: at})
			for _, r := range rep.Results {
				if r.Status >= lint.Warn {
					t.Errorf("%s: %s %s", r.Rule, r.Status, r.Details)
				}
			}
		})
	}
}

// TestRules breaks one requirement per case and expects exactly that rule to
// fire, with details naming the observed and expected values.
func TestRules(t *testing.T) {
	rk, ek := testKeys(t)
	for _, tc := range []struct {
		name    string
		role    Role
		mutate  func(*x509.Certificate)
		key     crypto.Signer
		rule    string
		want    lint.Status
		details string
	}{
		{"client_auth_only_on_cmg", CMGServer, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, nil, "e_eku_missing", lint.Error, "serverAuth (1.3.6.1.5.5.7.3.1) is required"},
		{"server_auth_only_on_client", PKIClient, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, nil, "e_eku_missing", lint.Error, "clientAuth"},
		{"no_eku_on_cp", CMGConnectionPoint, func(c *x509.Certificate) { c.ExtKeyUsage = nil }, nil, "e_eku_missing", lint.Error, "EKUs are []"},
		{"client_without_key_encipherment", PKIClient, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, nil, "e_key_usage_missing", lint.Error, "[keyEncipherment] is required"},
		{"ca_without_crl_sign", IssuingCA, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }, nil, "e_key_usage_missing", lint.Error, "cRLSign"},
		{"cmg_ecdsa", CMGServer, nil, ek, "e_key_type_not_allowed", lint.Error, "key is ECDSA P-256; cmg-server accepts RSA 2048 or 4096"},
		{"mp_ecdsa", MPHTTPS, nil, ek, "e_key_type_not_allowed", lint.Error, "accepts RSA >= 2048"},
		{"root_ecdsa_ok", RootCA, nil, ek, "e_key_type_not_allowed", lint.Pass, ""},
		{"sha1_signature", PKIClient, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA1WithRSA }, nil, "e_signature_not_sha2", lint.Error, "SHA1-RSA"},
		{"leaf_is_ca", MPHTTPS, func(c *x509.Certificate) { c.IsCA = true }, nil, "e_basic_constraints_mismatch", lint.Error, "cA=TRUE"},
		{"ca_not_ca", RootCA, func(c *x509.Certificate) { c.IsCA = false; c.KeyUsage = x509.KeyUsageDigitalSignature }, nil, "e_basic_constraints_mismatch", lint.Error, "a CA needs cA=TRUE"},
		{"zero_validity", PKIClient, func(c *x509.Certificate) { c.NotAfter = c.NotBefore }, nil, "e_validity_empty", lint.Error, "notAfter must be after notBefore"},
		{"no_cdp", CMGServer, func(c *x509.Certificate) { c.CRLDistributionPoints = nil }, nil, "w_cdp_missing", lint.Warn, "no CRL distribution point and no OCSP URL"},
		{"ldap_cdp_only_is_not_cdp_missing", PKIClient, func(c *x509.Certificate) { c.CRLDistributionPoints = []string{"ldap:///CN=x"} }, nil, "w_cdp_missing", lint.Pass, ""},
		{"ocsp_only_ok", PKIClient, func(c *x509.Certificate) {
			c.CRLDistributionPoints, c.OCSPServer = nil, []string{"http://ocsp.contoso.com"}
		}, nil, "w_cdp_missing", lint.Pass, ""},
		{"no_cdp_on_wpj_is_na", WPJDevice, nil, nil, "w_cdp_missing", lint.NA, ""},
		{"no_cdp_on_root_is_na", RootCA, nil, nil, "w_cdp_missing", lint.NA, ""},
		{"cmg_without_key_encipherment_unconfirmed", CMGServer, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, nil, "e_key_usage_missing", lint.Warn, "UNCONFIRMED"},
		{"root_rsa1024_unconfirmed", RootCA, nil, weakRSA(t), "e_key_type_not_allowed", lint.Warn, "key is RSA 1024"},
		{"no_aia", MPHTTPS, func(c *x509.Certificate) { c.IssuingCertificateURL = nil }, nil, "w_aia_missing", lint.Warn, "caIssuers"},
		{"cmg_prefix_with_dash", CMGServer, func(c *x509.Certificate) {
			c.Subject.CommonName, c.DNSNames = "cmg-01.contoso.com", []string{"cmg-01.contoso.com"}
		}, nil, "e_cmg_service_name_prefix", lint.Error, `first label "cmg-01" must be 3-24 lower-case`},
		{"cmg_prefix_too_short", CMGServer, func(c *x509.Certificate) {
			c.Subject.CommonName, c.DNSNames = "cm.contoso.com", []string{"cm.contoso.com"}
		}, nil, "e_cmg_service_name_prefix", lint.Error, `"cm"`},
		{"cmg_prefix_upper_case", CMGServer, func(c *x509.Certificate) {
			c.Subject.CommonName, c.DNSNames = "CMG.contoso.com", []string{"CMG.contoso.com"}
		}, nil, "e_cmg_service_name_prefix", lint.Error, `"CMG"`},
		{"cmg_prefix_on_mp_is_na", MPHTTPS, func(c *x509.Certificate) { c.Subject.CommonName = "mp-01.contoso.com" }, nil, "e_cmg_service_name_prefix", lint.NA, ""},
		{"cmg_wildcard_notice", CMGServer, func(c *x509.Certificate) {
			c.Subject.CommonName, c.DNSNames = "*.contoso.com", []string{"*.contoso.com"}
		}, nil, "n_cmg_wildcard_needs_prefix", lint.Notice, "*.contoso.com"},
		{"wildcard_not_leftmost", CMGServer, func(c *x509.Certificate) { c.DNSNames = []string{"cmg.contoso.com", "cmg.*.contoso.com"} }, nil, "e_dns_name_invalid", lint.Error, "whole leftmost label"},
		{"wildcard_on_mp", MPHTTPS, func(c *x509.Certificate) { c.DNSNames = []string{"*.contoso.com"} }, nil, "e_dns_name_invalid", lint.Error, "does not allow wildcards"},
		{"mp_without_san", MPHTTPS, func(c *x509.Certificate) { c.DNSNames = nil }, nil, "w_san_missing", lint.Warn, `the name "host01.contoso.com" is only in the subject CN`},
		{"mp_without_san_dns_ok", MPHTTPS, func(c *x509.Certificate) { c.DNSNames = nil }, nil, "e_dns_name_invalid", lint.Pass, ""},
		{"mp_cn_only_fqdn_ok", MPHTTPS, func(c *x509.Certificate) { c.DNSNames = nil }, nil, "e_mp_fqdn_missing", lint.Pass, ""},
		{"mp_no_fqdn", MPHTTPS, func(c *x509.Certificate) { c.DNSNames, c.Subject.CommonName = nil, "MP01" }, nil, "e_mp_fqdn_missing", lint.Error, "hold an FQDN"},
		{"cn_only_no_cn_in_san_warning", MPHTTPS, func(c *x509.Certificate) { c.DNSNames = nil }, nil, "w_cn_not_in_san", lint.NA, ""},
		{"san_missing_on_client_is_na", PKIClient, func(c *x509.Certificate) { c.DNSNames = nil }, nil, "w_san_missing", lint.NA, ""},
		{"client_empty_subject_san_ok", PKIClient, func(c *x509.Certificate) { c.Subject = pkix.Name{} }, nil, "e_client_identity_missing", lint.Pass, ""},
		{"client_empty_subject_no_cn_warning", PKIClient, func(c *x509.Certificate) { c.Subject = pkix.Name{} }, nil, "w_cn_not_in_san", lint.NA, ""},
		{"client_no_identity", PKIClient, func(c *x509.Certificate) { c.Subject, c.DNSNames = pkix.Name{}, nil }, nil, "e_client_identity_missing", lint.Error, "both empty"},
		{"cmg_no_cn", CMGServer, func(c *x509.Certificate) { c.Subject = pkix.Name{Organization: []string{"Contoso"}} }, nil, "e_cmg_cn_missing", lint.Error, `subject "O=Contoso" has no CN`},
		{"cmg_no_cn_prefix_na", CMGServer, func(c *x509.Certificate) { c.Subject = pkix.Name{} }, nil, "e_cmg_service_name_prefix", lint.NA, ""},
		{"cmg_cn_wildcard_inner", CMGServer, func(c *x509.Certificate) { c.Subject.CommonName = "cmg.*.contoso.com" }, nil, "e_cmg_service_name_invalid", lint.Error, "whole leftmost label"},
		{"cmg_cn_wildcard_partial", CMGServer, func(c *x509.Certificate) { c.Subject.CommonName = "cmg*.contoso.com" }, nil, "e_cmg_service_name_invalid", lint.Error, "whole leftmost label"},
		{"cmg_cn_wildcard_ok", CMGServer, func(c *x509.Certificate) {
			c.Subject.CommonName, c.DNSNames = "*.contoso.com", []string{"*.contoso.com"}
		}, nil, "e_cmg_service_name_invalid", lint.Pass, ""},
		{"cmg_cn_not_fqdn", CMGServer, func(c *x509.Certificate) { c.Subject.CommonName = "cmg01" }, nil, "e_cmg_service_name_invalid", lint.Error, "not fully qualified"},
		{"ca_without_key_cert_sign", IssuingCA, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }, nil, "e_ca_key_cert_sign_missing", lint.Error, "Key Usage is [cRLSign]; a CA needs keyCertSign"},
		{"ca_without_key_cert_sign_not_ku_missing", IssuingCA, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }, nil, "e_key_usage_missing", lint.Pass, ""},
		{"ca_key_cert_sign_on_leaf_na", PKIClient, nil, nil, "e_ca_key_cert_sign_missing", lint.NA, ""},
		{"wpj_wrong_issuer", WPJDevice, func(c *x509.Certificate) { c.Subject.CommonName = "not-a-guid" }, nil, "e_wpj_issuer_not_ms_organization_access", lint.Error, `issuer is "CN=not-a-guid"`},
		{"wpj_extra_eku", WPJDevice, func(c *x509.Certificate) {
			c.ExtraExtensions = dropExt(c.ExtraExtensions, OIDExtKeyUsage)
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
		}, nil, "w_wpj_eku_not_client_auth_only", lint.Warn, "serverAuth"},
		{"ldap_and_http_cdp", CMGServer, func(c *x509.Certificate) {
			c.CRLDistributionPoints = []string{"ldap:///CN=Contoso%20CA,CN=CDP", "http://pki.contoso.com/ca.crl"}
		}, nil, "w_revocation_url_not_http", lint.Warn, "ldap:///CN=Contoso%20CA,CN=CDP"},
		{"https_aia", PKIClient, func(c *x509.Certificate) { c.IssuingCertificateURL = []string{"https://pki.contoso.com/ca.cer"} }, nil, "w_revocation_url_not_http", lint.Warn, "https://pki.contoso.com/ca.cer"},
		{"ldap_only_is_scheme", PKIClient, func(c *x509.Certificate) { c.CRLDistributionPoints = []string{"ldap:///CN=x"} }, nil, "w_revocation_url_not_http", lint.Warn, "none is http://"},
		{"no_pointer_scheme_na", PKIClient, func(c *x509.Certificate) { c.CRLDistributionPoints, c.OCSPServer = nil, nil }, nil, "w_revocation_url_not_http", lint.NA, ""},
		{"sha1_root_na", RootCA, nil, nil, "e_signature_not_sha2", lint.NA, ""},
		{"cn_not_in_san", CMGServer, func(c *x509.Certificate) { c.DNSNames = []string{"other.contoso.com"} }, nil, "w_cn_not_in_san", lint.Warn, `CN "cmg.contoso.com" is not among`},
		{"wpj_subject_not_guid", WPJDevice, func(c *x509.Certificate) { c.Subject.CommonName = "device01" }, nil, "e_wpj_subject_not_guid", lint.Error, "want only CN=<GUID>"},
		{"wpj_with_san", WPJDevice, func(c *x509.Certificate) { c.DNSNames = []string{"dev.contoso.com"} }, nil, "e_wpj_subject_not_guid", lint.Error, "has a SAN"},
		{"wpj_missing_join_type", WPJDevice, func(c *x509.Certificate) { c.ExtraExtensions = dropExt(c.ExtraExtensions, OIDWPJJoinType) }, nil, "e_wpj_extensions", lint.Error, "1.2.840.113556.1.5.284.7 (join type) missing"},
		{"wpj_minimal_length", WPJDevice, func(c *x509.Certificate) { setExt(c, OIDWPJUserID, append([]byte{4, 16}, make([]byte, 16)...)) }, nil, "e_wpj_extensions", lint.Error, "04 81"},
		{"wpj_device_id_mismatch", WPJDevice, func(c *x509.Certificate) { c.Subject.CommonName = "11111111-2222-4333-8444-555555555555" }, nil, "e_wpj_extensions", lint.Error, "does not equal subject CN"},
		{"wpj_eku_not_critical", WPJDevice, func(c *x509.Certificate) {
			c.ExtraExtensions = dropExt(c.ExtraExtensions, OIDExtKeyUsage)
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}, nil, "w_eku_not_critical", lint.Warn, "critical=false"},
		{"wpj_with_key_usage", WPJDevice, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, nil, "w_key_usage_present", lint.Warn, "digitalSignature"},
		{"wpj_rsa2048_ok", WPJDevice, nil, nil, "e_key_type_not_allowed", lint.Pass, ""},
		{"ocsp_signer_without_nocheck", OCSPSigner, func(c *x509.Certificate) { c.ExtraExtensions = dropExt(c.ExtraExtensions, OIDOCSPNoCheck) }, nil, "e_ocsp_signer_nocheck_missing", lint.Error, "1.3.6.1.5.5.7.48.1.5"},
		{"ocsp_signer_wrong_eku", OCSPSigner, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, nil, "e_eku_missing", lint.Error, "ocspSigning"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := goodTemplate(t, tc.role)
			if tc.mutate != nil {
				tc.mutate(tpl)
			}
			key := tc.key
			if key == nil {
				key = rk
			}
			if tpl.SignatureAlgorithm == x509.SHA1WithRSA {
				// crypto/x509 refuses to make SHA-1 certificates; sign as
				// SHA-256 and relabel the parsed certificate to exercise the rule.
				tpl.SignatureAlgorithm = 0
				c := sign(t, tpl, key)
				c.SignatureAlgorithm = x509.SHA1WithRSA
				check(t, c, tc.role, tc.rule, tc.want, tc.details)
				return
			}
			check(t, sign(t, tpl, key), tc.role, tc.rule, tc.want, tc.details)
		})
	}
}

func check(t *testing.T, c *x509.Certificate, role Role, rule string, want lint.Status, details string) {
	t.Helper()
	rep := Lint(c, MustGet(role), lint.Env{At: at})
	i := slices.IndexFunc(rep.Results, func(r lint.Result) bool { return r.Rule == rule })
	if i < 0 {
		t.Fatalf("rule %s did not run", rule)
	}
	got := rep.Results[i]
	if got.Status != want {
		t.Fatalf("%s = %s (%s), want %s", rule, got.Status, got.Details, want)
	}
	if !strings.Contains(got.Details, details) {
		t.Errorf("%s details %q do not contain %q", rule, got.Details, details)
	}
	if got.Status >= lint.Warn && (got.Citation.Source == "" || got.Fix == "") {
		t.Errorf("%s: a finding must carry a citation and a fix, got %+v", rule, got)
	}
}

var (
	weakOnce sync.Once
	weakKey  *rsa.PrivateKey
)

// weakRSA is an RSA 1024 key, below what any requirement accepts.
func weakRSA(t *testing.T) crypto.Signer {
	t.Helper()
	weakOnce.Do(func() { weakKey, _ = rsa.GenerateKey(rand.Reader, 1024) })
	return weakKey
}

func dropExt(es []pkix.Extension, oid []int) []pkix.Extension {
	return slices.DeleteFunc(slices.Clone(es), func(e pkix.Extension) bool { return e.Id.Equal(oid) })
}

func setExt(c *x509.Certificate, oid []int, v []byte) {
	for i := range c.ExtraExtensions {
		if c.ExtraExtensions[i].Id.Equal(oid) {
			c.ExtraExtensions[i].Value = v
		}
	}
}

// TestRuleMetadata is the lint-the-linter check: every rule is cited from the
// catalogue, says how to fix, and bounds its severity by its name.
func TestRuleMetadata(t *testing.T) {
	metas := Rules().Rules()
	if len(metas) < 15 {
		t.Fatalf("only %d certificate rules registered", len(metas))
	}
	for _, m := range metas {
		if _, ok := lint.LookupSource(m.Citation.Source); !ok || m.Citation.Section == "" {
			t.Errorf("%s: citation %+v is not a catalogued source with a section", m.Name, m.Citation)
		}
		for _, r := range m.Roles {
			if _, err := Get(r); err != nil {
				t.Errorf("%s: unknown role %q", m.Name, r)
			}
		}
	}
}

func TestProfilesCiteTheirRequirements(t *testing.T) {
	for _, p := range All() {
		if !p.KeyUsage.Omit && p.KeyUsage.Cite.Source == "" {
			t.Errorf("%s: key usage has no source", p.Role)
		}
		if len(p.EKU.Required) > 0 && p.EKU.Cite.Source == "" {
			t.Errorf("%s: EKU has no source", p.Role)
		}
		if p.Keys.Cite.Source == "" || p.Names.Cite.Source == "" {
			t.Errorf("%s: keys or names have no source", p.Role)
		}
		if p.Revocation.Cite.Source == "" {
			t.Errorf("%s: revocation scenario has no source", p.Role)
		}
		for _, sp := range []Spec{p.KeyUsage.Spec, p.Keys.Spec, p.Names.Spec} {
			if sp.Unconfirmed() && sp.Note == "" {
				t.Errorf("%s: an UNCONFIRMED requirement (%s) must say why in its note", p.Role, sp.Cite)
			}
		}
	}
	if err := MustGet(CMGServer).CheckKeyType(RSA3072); err == nil || !strings.Contains(err.Error(), "rsa2048, rsa4096") {
		t.Errorf("cmg-server accepted rsa3072 or gave an unhelpful error: %v", err)
	}
}
