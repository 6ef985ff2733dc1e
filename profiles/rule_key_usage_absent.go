package profiles

import "github.com/cmgpki/cmgpki/lint"

// Real Entra device certificates carry no Key Usage extension ([DVRJ] 4.1);
// a lab copy that adds one no longer reproduces what clients present.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_key_usage_present",
			Description: "roles whose real certificates have no Key Usage must not carry one",
			Citation:    lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no Key Usage extension"),
			Roles:       rolesOf(WPJDevice),
			Fix:         "a device certificate from Entra DRS has no Key Usage; one that has was not issued by Entra",
		},
		Applies: func(s Subject) bool { return s.Profile.KeyUsage.Omit },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if s.Cert.KeyUsage != 0 {
				return lint.Failf("Key Usage is %s; the real certificate has none", KeyUsageNames(s.Cert.KeyUsage))
			}
			return lint.PassOutcome
		},
	})
}
