package profiles

import "github.com/cmgpki/cmgpki/lint"

// A CA certificate asserts cA=TRUE in a basicConstraints extension, and an
// end-entity certificate must not (RFC 5280 4.2.1.9). Windows chain building
// rejects a leaf used as a CA and a CA without basic constraints.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_basic_constraints_mismatch",
			Description: "basicConstraints must be present with cA=TRUE on CA roles and cA=FALSE on end entities",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.2.1.9 Basic Constraints"),
			Fix:         "ask your CA for a certificate with basicConstraints matching the role (cA=TRUE only on CAs)",
			WinError:    lint.Role,
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			c := s.Cert
			if s.Profile.IsCA && (!c.BasicConstraintsValid || !c.IsCA) {
				return lint.Failf("basicConstraints present=%t cA=%t; a CA needs cA=TRUE", c.BasicConstraintsValid, c.IsCA)
			}
			if !s.Profile.IsCA && c.IsCA {
				return lint.Failf("basicConstraints cA=TRUE on a %s certificate; end entities need cA=FALSE", s.Profile.Role)
			}
			return lint.PassOutcome
		},
	})
}
