package verify

import (
	"errors"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// The CMG server certificate is uploaded as a .PFX together with its
// password ([SAC]; the wizard asks for both), and a PFX for any role is
// imported with its password. A PFX whose MAC does not verify with the
// password given cannot be opened: the wrong password (or a corrupt file;
// the two look the same).
func init() {
	inputRules.Register(lint.Rule[InputSubject]{
		Meta: lint.Meta{
			Name:        "e_pfx_wrong_password",
			Description: "a PFX must open with the password given",
			Citation:    lint.Cite(lint.SrcSAC, "Export the certificate as a .PFX with its private key and a password; upload it with that password"),
			Fix:         "give the password the PFX was exported with, or export the PFX again with a known password",
		},
		Applies: func(s InputSubject) bool { return s.isPFX() },
		Check: func(s InputSubject, _ lint.Env) lint.Outcome {
			if errors.Is(s.Err, certio.ErrWrongPassword) {
				return lint.Failf("%s: %v", s.Name, s.Err)
			}
			return lint.PassOutcome
		},
	})
}
