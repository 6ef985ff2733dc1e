package gentestdata

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"time"

	"github.com/cmgpki/cmgpki/profiles"
)

const (
	E = "error"
	W = "warn"
	N = "notice"
)

func one(rule, level string) map[string]string { return map[string]string{rule: level} }

var (
	oidClientAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	oidServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
)

func dropExt(c *x509.Certificate, id asn1.ObjectIdentifier) {
	c.ExtraExtensions = slices.DeleteFunc(c.ExtraExtensions, func(e pkix.Extension) bool { return e.Id.Equal(id) })
}

// criticalEKU replaces the EKU extension with a critical one of oids.
func criticalEKU(c *x509.Certificate, oids ...asn1.ObjectIdentifier) {
	dropExt(c, profiles.OIDExtKeyUsage)
	v, _ := asn1.Marshal(oids)
	c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: profiles.OIDExtKeyUsage, Critical: true, Value: v})
	c.ExtKeyUsage = nil
}

// specs are the generated cases: one good certificate per role, then for
// each certificate rule the certificates that break it, each with every
// finding it trips.
func specs() []spec {
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
	var out []spec
	for _, p := range profiles.All() {
		out = append(out, spec{rule: "good", name: string(p.Role), role: p.Role})
	}
	out = append(out,
		spec{rule: "good", name: "mp-https-expected-names", role: profiles.MPHTTPS, names: []string{"mp01.corp.contoso.com", "mp.contoso.com"}},
		spec{rule: "good", name: "pki-client-computer-name", role: profiles.PKIClient, computer: "client01"},
		spec{rule: "good", name: "client-subject-empty-san-only", role: profiles.PKIClient, mutate: func(c *x509.Certificate) { c.Subject = pkix.Name{} }},

		spec{rule: "e_basic_constraints_mismatch", name: "mp-leaf-is-ca", role: profiles.MPHTTPS, mutate: func(c *x509.Certificate) { c.IsCA = true },
			expect: one("e_basic_constraints_mismatch", E)},
		spec{rule: "e_basic_constraints_mismatch", name: "issuing-ca-without-basic-constraints", role: profiles.IssuingCA,
			mutate: func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA = false, false }, expect: one("e_basic_constraints_mismatch", E)},
		spec{rule: "e_ca_key_cert_sign_missing", name: "issuing-ca-crl-sign-only", role: profiles.IssuingCA,
			mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }, expect: one("e_ca_key_cert_sign_missing", E)},
		spec{rule: "e_ca_subject_empty", name: "issuing-ca-empty-subject", role: profiles.IssuingCA,
			mutate: func(c *x509.Certificate) { c.Subject = pkix.Name{} }, expect: one("e_ca_subject_empty", E)},
		spec{rule: "e_client_identity_missing", name: "client-no-subject-no-san", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) { c.Subject, c.DNSNames = pkix.Name{}, nil }, expect: one("e_client_identity_missing", E)},
		spec{rule: "e_cmg_cn_missing", name: "cmg-san-only", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.Subject = pkix.Name{Organization: []string{"Contoso"}} }, expect: one("e_cmg_cn_missing", E)},
		spec{rule: "e_cmg_service_name_invalid", name: "cmg-wildcard-inner-label", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.Subject.CommonName = "cmg.*.contoso.com" },
			expect: map[string]string{"e_cmg_service_name_invalid": E, "w_cn_not_in_san": W}},
		spec{rule: "e_cmg_service_name_invalid", name: "cmg-cn-not-fqdn", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.Subject.CommonName = "cmg01" },
			expect: map[string]string{"e_cmg_service_name_invalid": E, "w_cn_not_in_san": W}},
		spec{rule: "e_cmg_service_name_prefix", name: "cmg-prefix-with-dash", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) {
				c.Subject.CommonName, c.DNSNames = "cmg-01.contoso.com", []string{"cmg-01.contoso.com"}
			},
			expect: one("e_cmg_service_name_prefix", E)},
		spec{rule: "e_cmg_service_name_prefix", name: "cmg-prefix-upper-case", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) {
				c.Subject.CommonName, c.DNSNames = "CMG01.contoso.com", []string{"CMG01.contoso.com"}
			},
			expect: one("e_cmg_service_name_prefix", E)},
		spec{rule: "e_dns_name_invalid", name: "mp-ip-address-as-dns-name", role: profiles.MPHTTPS,
			mutate: func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, "10.0.0.5") }, expect: one("e_dns_name_invalid", E)},
		spec{rule: "e_dns_name_invalid", name: "mp-wildcard", role: profiles.MPHTTPS,
			mutate: func(c *x509.Certificate) { c.DNSNames = append(c.DNSNames, "*.corp.contoso.com") }, expect: one("e_dns_name_invalid", E)},
		spec{rule: "e_eku_missing", name: "cmg-client-auth-only", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, expect: one("e_eku_missing", E)},
		spec{rule: "e_eku_missing", name: "client-server-auth-only", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, expect: one("e_eku_missing", E)},
		spec{rule: "e_key_type_not_allowed", name: "cmg-ecdsa-p256", role: profiles.CMGServer,
			key: func(k keys) crypto.Signer { return k.ec }, expect: one("e_key_type_not_allowed", E)},
		spec{rule: "e_key_type_not_allowed", name: "client-rsa1024", role: profiles.PKIClient,
			key: func(k keys) crypto.Signer { return k.weak }, expect: one("e_key_type_not_allowed", E)},
		spec{rule: "e_key_usage_missing", name: "client-without-key-encipherment", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, expect: one("e_key_usage_missing", E)},
		spec{rule: "e_key_usage_missing", name: "issuing-ca-without-crl-sign", role: profiles.IssuingCA,
			mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign }, expect: one("e_key_usage_missing", E)},
		spec{rule: "e_key_usage_missing", name: "cmg-without-key-encipherment-unconfirmed", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, expect: one("e_key_usage_missing", W)},
		spec{rule: "e_mp_fqdn_missing", name: "mp-netbios-name-only", role: profiles.MPHTTPS,
			mutate: func(c *x509.Certificate) { c.Subject.CommonName, c.DNSNames = "MP01", nil },
			expect: map[string]string{"e_mp_fqdn_missing": E, "w_san_missing": W}},
		spec{rule: "e_mp_fqdn_missing", name: "mp-internet-fqdn-missing", role: profiles.MPHTTPS,
			names: []string{"mp01.corp.contoso.com", "mp.contoso.com"}, mutate: func(c *x509.Certificate) { c.DNSNames = c.DNSNames[:1] },
			expect: one("e_mp_fqdn_missing", E)},
		spec{rule: "e_not_valid_at", name: "cmg-expired", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.NotBefore, c.NotAfter = At.Add(-days(400)), At.Add(-days(1)) }, expect: one("e_not_valid_at", E)},
		spec{rule: "e_not_valid_at", name: "cmg-not-yet-valid", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.NotBefore = At.Add(days(1)) }, expect: one("e_not_valid_at", E)},
		spec{rule: "e_ocsp_signer_nocheck_missing", name: "ocsp-signer-without-nocheck", role: profiles.OCSPSigner,
			mutate: func(c *x509.Certificate) { dropExt(c, profiles.OIDOCSPNoCheck) }, expect: one("e_ocsp_signer_nocheck_missing", E)},
		spec{rule: "e_validity_empty", name: "client-zero-validity", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) { c.NotAfter = c.NotBefore },
			expect: map[string]string{"e_validity_empty": E, "e_not_valid_at": E}},
		spec{rule: "e_wpj_extensions", name: "wpj-missing-join-type", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { dropExt(c, profiles.OIDWPJJoinType) }, expect: one("e_wpj_extensions", E)},
		spec{rule: "e_wpj_extensions", name: "wpj-device-id-not-cn", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { c.Subject.CommonName = otherGUID }, expect: one("e_wpj_extensions", E)},
		spec{rule: "e_wpj_issuer_not_ms_organization_access", name: "wpj-issued-by-enterprise-ca", role: profiles.WPJDevice,
			issuer: func(c *corpus) *node { return &c.issuing }, expect: one("e_wpj_issuer_not_ms_organization_access", E)},
		spec{rule: "e_wpj_subject_not_guid", name: "wpj-cn-computer-name", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { c.Subject.CommonName = "DESKTOP-01" },
			expect: map[string]string{"e_wpj_subject_not_guid": E, "e_wpj_extensions": E}},
		spec{rule: "e_wpj_subject_not_guid", name: "wpj-with-san", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { c.DNSNames = []string{"desktop-01.contoso.com"} }, expect: one("e_wpj_subject_not_guid", E)},
		spec{rule: "n_cmg_wildcard_needs_prefix", name: "cmg-wildcard", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) {
				c.Subject.CommonName, c.DNSNames = "*.contoso.com", []string{"*.contoso.com"}
			},
			expect: one("n_cmg_wildcard_needs_prefix", N)},
		spec{rule: "w_aia_missing", name: "mp-without-aia", role: profiles.MPHTTPS,
			mutate: func(c *x509.Certificate) { c.IssuingCertificateURL = nil }, expect: one("w_aia_missing", W)},
		spec{rule: "w_cdp_missing", name: "cmg-without-cdp", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.CRLDistributionPoints = nil }, expect: one("w_cdp_missing", W)},
		spec{rule: "w_revocation_url_not_http", name: "client-ldap-cdp-only", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) {
				c.CRLDistributionPoints = []string{"ldap:///CN=Corpus%20Issuing%20CA,CN=pki,CN=CDP,CN=Public%20Key%20Services,CN=Services,CN=Configuration,DC=contoso,DC=com?certificateRevocationList?base?objectClass=cRLDistributionPoint"}
			}, expect: one("w_revocation_url_not_http", W)},
		spec{rule: "w_client_computer_name_missing", name: "client-name-in-san-only", role: profiles.PKIClient, computer: "client01",
			mutate: func(c *x509.Certificate) { c.Subject = pkix.Name{} }, expect: one("w_client_computer_name_missing", W)},
		spec{rule: "w_client_computer_name_missing", name: "client-of-another-computer", role: profiles.PKIClient, computer: "client07",
			expect: one("w_client_computer_name_missing", W)},
		spec{rule: "w_cn_not_in_san", name: "cmg-cn-not-in-san", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.DNSNames = []string{"cmg02.contoso.com"} }, expect: one("w_cn_not_in_san", W)},
		spec{rule: "w_eku_not_critical", name: "wpj-eku-not-critical", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) {
				dropExt(c, profiles.OIDExtKeyUsage)
				c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			}, expect: one("w_eku_not_critical", W)},
		spec{rule: "w_expiring_soon", name: "cmg-expires-in-10-days", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.NotAfter = At.Add(days(10)) }, expect: one("w_expiring_soon", W)},
		spec{rule: "w_key_usage_present", name: "wpj-with-key-usage", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, expect: one("w_key_usage_present", W)},
		spec{rule: "w_revocation_url_not_http", name: "cmg-ldap-cdp-first", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) {
				c.CRLDistributionPoints = append([]string{"ldap:///CN=Corpus%20Issuing%20CA,CN=pki,CN=CDP,CN=Public%20Key%20Services,CN=Services,CN=Configuration,DC=contoso,DC=com?certificateRevocationList?base?objectClass=cRLDistributionPoint"}, c.CRLDistributionPoints...)
			}, expect: one("w_revocation_url_not_http", W)},
		spec{rule: "w_revocation_url_not_http", name: "client-https-aia", role: profiles.PKIClient,
			mutate: func(c *x509.Certificate) {
				c.IssuingCertificateURL = append([]string{"https://pki.contoso.com/issuing.cer"}, c.IssuingCertificateURL...)
			},
			expect: one("w_revocation_url_not_http", W)},
		spec{rule: "w_san_missing", name: "cmg-cn-only", role: profiles.CMGServer,
			mutate: func(c *x509.Certificate) { c.DNSNames = nil }, expect: one("w_san_missing", W)},
		spec{rule: "w_wpj_eku_not_client_auth_only", name: "wpj-client-and-server-auth", role: profiles.WPJDevice,
			mutate: func(c *x509.Certificate) { criticalEKU(c, oidClientAuth, oidServerAuth) }, expect: one("w_wpj_eku_not_client_auth_only", W)},
	)
	return out
}

// opensslCases are the committed certificates made by openssl (see
// testdata/corpus/README.md for the commands): real-world encodings the Go
// generator does not produce.
func opensslCases() []Case {
	c := func(rule, name, file string, role profiles.Role, expect map[string]string) Case {
		if expect == nil {
			expect = map[string]string{}
		}
		return Case{Rule: rule, Name: name, File: "openssl/" + file, Role: string(role), At: At, Expect: expect, Maker: "openssl"}
	}
	cases := []Case{
		c("w_revocation_url_not_http", "openssl-adcs-web-server-ldap-cdp", "adcs-web-server.pem", profiles.MPHTTPS, one("w_revocation_url_not_http", W)),
		c("good", "openssl-adcs-workstation", "adcs-workstation.pem", profiles.PKIClient, nil),
		c("w_client_computer_name_missing", "openssl-adcs-workstation-computer", "adcs-workstation.pem", profiles.PKIClient, one("w_client_computer_name_missing", W)),
		c("w_san_missing", "openssl-mp-cn-only", "mp-cn-only.pem", profiles.MPHTTPS, one("w_san_missing", W)),
		c("e_signature_not_sha2", "openssl-client-sha1", "client-sha1.pem", profiles.PKIClient, one("e_signature_not_sha2", E)),
	}
	cases[2].Computer = "client02"
	cases[0].Names = []string{"mp02.corp.contoso.com", "mp.contoso.com"}
	return cases
}
