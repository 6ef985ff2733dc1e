package verify

import (
	"errors"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// The CMG server authentication certificate is uploaded as a .PFX with its
// private key, which must be exportable ([SAC], [EXPKI]); a site system or
// client imports its PFX to use the key. A PFX without the private key can
// be neither bound nor uploaded (failure F11 is the related "key not
// usable").
func init() {
	inputRules.Register(lint.Rule[InputSubject]{
		Meta: lint.Meta{
			Name:        "e_pfx_no_private_key",
			Description: "a PFX must hold the private key of its certificate",
			Citation:    lint.Cite(lint.SrcSAC, "Export the certificate as a .PFX with its private key (the key must be exportable)"),
			Fix:         "export the certificate again with its private key (certutil -exportPFX, Export-PfxCertificate, or the export wizard's \"Yes, export the private key\")",
		},
		Applies: func(s InputSubject) bool { return s.isPFX() && !errors.Is(s.Err, certio.ErrWrongPassword) },
		Check: func(s InputSubject, _ lint.Env) lint.Outcome {
			if errors.Is(s.Err, certio.ErrNoPrivateKey) || s.Bundle != nil && s.Bundle.Key == nil {
				return lint.Failf("%s holds certificates but no private key", s.Name)
			}
			return lint.PassOutcome
		},
	})
}
