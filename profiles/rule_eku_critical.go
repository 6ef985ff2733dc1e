package profiles

import "github.com/cmgpki/cmgpki/lint"

// Entra device certificates mark the EKU extension critical ([DVRJ] 4.1
// example certificate: "X509v3 Extended Key Usage: critical").
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_eku_not_critical",
			Description: "roles whose real certificates mark EKU critical must do so",
			Citation:    lint.Cite(lint.SrcDVRJ, "4.1 example certificate: Extended Key Usage critical"),
			Roles:       rolesOf(WPJDevice),
			Fix:         "a device certificate from Entra DRS marks the EKU critical; one that does not was not issued by Entra",
		},
		Applies: func(s Subject) bool { return s.Profile.EKU.Critical },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			e, ok := FindExtension(s.Cert, OIDExtKeyUsage)
			if !ok || !e.Critical {
				return lint.Failf("EKU extension present=%t critical=%t; critical is expected", ok, ok && e.Critical)
			}
			return lint.PassOutcome
		},
	})
}
