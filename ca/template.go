package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"

	"go.step.sm/crypto/x509util"

	"github.com/cmgpki/cmgpki/profiles"
)

// ApplyUserTemplate renders an x509util template (Go text/template producing
// x509util.Certificate JSON) and lays what it sets on top of tpl, which the
// profile has already filled. The template sees .Subject, .SANs (from the
// request) and .Role. Fields it leaves empty keep the profile's values;
// serial, validity, key and basic constraints always stay the CA's. Anything
// it sets that the profile forbids is caught by the lint before signing.
func ApplyUserTemplate(tpl *x509.Certificate, text string, p *profiles.Profile) error {
	sans := make([]string, len(tpl.DNSNames))
	copy(sans, tpl.DNSNames)
	data := x509util.CreateTemplateData(tpl.Subject.CommonName, sans)
	data.Set("Role", string(p.Role))
	xc, err := x509util.NewCertificateFromX509(tpl, x509util.WithTemplate(text, data))
	if err != nil {
		return &SpecError{Flag: "--template", Err: err}
	}
	u := xc.GetCertificate()
	if len(u.Subject.Names) > 0 || u.Subject.CommonName != "" {
		tpl.Subject = u.Subject
	}
	if len(u.DNSNames)+len(u.IPAddresses)+len(u.EmailAddresses)+len(u.URIs) > 0 {
		tpl.DNSNames, tpl.IPAddresses, tpl.EmailAddresses, tpl.URIs = u.DNSNames, u.IPAddresses, u.EmailAddresses, u.URIs
	}
	if u.KeyUsage != 0 {
		tpl.KeyUsage = u.KeyUsage
	}
	if len(u.ExtKeyUsage) > 0 {
		tpl.ExtKeyUsage = u.ExtKeyUsage
	}
	tpl.UnknownExtKeyUsage = append(tpl.UnknownExtKeyUsage, u.UnknownExtKeyUsage...)
	if len(u.Policies) > 0 {
		tpl.Policies = u.Policies
	}
	if len(u.PolicyIdentifiers) > 0 {
		tpl.PolicyIdentifiers = u.PolicyIdentifiers
	}
	if len(u.CRLDistributionPoints) > 0 {
		tpl.CRLDistributionPoints = u.CRLDistributionPoints
	}
	if len(u.OCSPServer) > 0 {
		tpl.OCSPServer = u.OCSPServer
	}
	if len(u.IssuingCertificateURL) > 0 {
		tpl.IssuingCertificateURL = u.IssuingCertificateURL
	}
	have := slices.Clone(tpl.ExtraExtensions)
	for _, e := range u.ExtraExtensions {
		// x509util echoes the base's extensions and SAN; the profile's
		// extensions (and its EKU) are kept.
		dup := slices.ContainsFunc(have, func(h pkix.Extension) bool { return h.Id.Equal(e.Id) })
		if dup || e.Id.Equal(profiles.OIDExtKeyUsage) || e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			continue
		}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, e)
	}
	return nil
}
