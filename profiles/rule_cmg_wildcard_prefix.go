package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// A wildcard CMG certificate is supported, but in the wizard the * must be
// replaced by a unique prefix in Service name ([SETUP]; failure F10).
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "n_cmg_wildcard_needs_prefix",
			Description: "a wildcard CMG certificate needs a unique prefix typed into the wizard's Service name",
			Citation:    lint.Cite(lint.SrcSetup, "Wildcard certificate: replace * in Service name with a unique prefix"),
			Roles:       rolesOf(CMGServer),
			Fix:         "in the CMG wizard, replace * with a unique 3-24 character prefix and create the CNAME",
		},
		Applies: func(s Subject) bool { return strings.HasPrefix(s.Cert.Subject.CommonName, "*.") },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			return lint.Outcome{Status: lint.Notice, Details: "CN is " + s.Cert.Subject.CommonName + "; the service name prefix is chosen in the wizard"}
		},
	})
}
