package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// The subject of an Entra device certificate is CN=<device ID>, a GUID, and
// nothing else; the SAN is absent ([DVRJ] 3.1.5.1.1.3 and 4.1).
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_wpj_subject_not_guid",
			Description: "an Entra device certificate's subject must be only CN=<device GUID>, with no SAN",
			Citation:    lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 subject CN is the device ID"),
			Roles:       rolesOf(WPJDevice),
			Fix:         "a device certificate from Entra DRS has CN=<device ID> only; re-register the device to get a new one",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			c := s.Cert
			if len(c.Subject.Names) != 1 || !IsGUID(c.Subject.CommonName) {
				return lint.Failf("subject is %q; want only CN=<GUID>", c.Subject.String())
			}
			if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) > 0 {
				return lint.Failf("certificate has a SAN (%s); the real device certificate has none",
					strings.Join(append(c.DNSNames, c.EmailAddresses...), ", "))
			}
			return lint.PassOutcome
		},
	})
}
