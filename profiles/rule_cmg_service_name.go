package profiles

import "github.com/cmgpki/cmgpki/lint"

// The CN of the CMG server certificate is the service name; its first label
// becomes the deployment name and Key Vault name: 3-24 lower-case letters and
// digits, no dash, globally unique ([SAC] "CMG service name").
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_cmg_service_name_prefix",
			Description: "the first label of the CMG certificate CN must be 3-24 lower-case letters and digits with no dash",
			Citation:    lint.Cite(lint.SrcSAC, "CMG service name and deployment name: prefix 3-24 characters, lower-case letters and numbers, no dash"),
			Roles:       rolesOf(CMGServer),
			Fix:         "ask your CA for a certificate with a CN like cmg01.contoso.com, and create a public CNAME to <prefix>.<region>.cloudapp.azure.com",
		},
		// A missing CN or one that is no FQDN is e_cmg_cn_missing's or
		// e_cmg_service_name_invalid's finding; a wildcard CN's prefix is
		// typed in the wizard (CheckCMGServiceName passes it).
		Applies: func(s Subject) bool {
			cn := s.Cert.Subject.CommonName
			return cn != "" && CheckDNSName(cn, true) == nil
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if err := CheckCMGServiceName(s.Cert.Subject.CommonName); err != nil {
				return lint.Failf("%v", err)
			}
			return lint.PassOutcome
		},
	})
}
