package profiles

import "github.com/cmgpki/cmgpki/lint"

// The CMG service name is the certificate CN, an FQDN; a wildcard
// certificate is supported as *.domain, the * being replaced in the wizard
// by a unique prefix ([SAC] service name, [SETUP] wildcard). A * anywhere
// else ("cmg.*.contoso.com", "cmg*.contoso.com") or a CN that is no FQDN
// cannot become a service name.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_cmg_service_name_invalid",
			Description: "the CMG certificate CN must be an FQDN, with a wildcard only as the whole leftmost label (*.contoso.com)",
			Citation:    lint.Cite(lint.SrcSetup, "Wildcard certificate: *.domain, replace * in Service name with a unique prefix"),
			Roles:       rolesOf(CMGServer),
			Fix:         "ask your CA for a certificate whose CN is the CMG FQDN (cmg01.contoso.com) or a wildcard *.contoso.com",
			WinError:    lint.NameMismatch,
		},
		Applies: func(s Subject) bool { return s.Cert.Subject.CommonName != "" }, // e_cmg_cn_missing speaks
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if err := CheckDNSName(s.Cert.Subject.CommonName, true); err != nil {
				return lint.Failf("CN: %v", err)
			}
			return lint.PassOutcome
		},
	})
}
