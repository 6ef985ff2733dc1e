package profiles

import "github.com/cmgpki/cmgpki/lint"

// A CA's subject names the issuer of everything it signs and must not be
// empty (RFC 5280 4.1.2.6). Clients match the issuers list (CCMCERTISSUERS)
// against root subject attributes ([PLANCERT]).
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_ca_subject_empty",
			Description: "a CA certificate must have a non-empty subject",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.1.2.6 Subject"),
			Roles:       rolesOf(caRoles...),
			Fix:         "the CA certificate needs a distinguishing subject (CN at least): ask its owner to reissue it",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if len(s.Cert.RawSubject) <= 2 || len(s.Cert.Subject.Names) == 0 {
				return lint.Failf("subject is empty")
			}
			return lint.PassOutcome
		},
	})
}
