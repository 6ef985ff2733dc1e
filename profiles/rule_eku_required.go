package profiles

import (
	"slices"

	"github.com/cmgpki/cmgpki/lint"
)

// Each end-entity role needs the EKU its profile lists: Server Authentication
// for the CMG and IIS site systems, Client Authentication for clients, the
// connection point and WPJ devices, OCSP Signing for a delegated responder
// ([SAC], [PKIREQ], [AUTH], [DVRJ], RFC 6960). The citation of each finding is
// the profile's.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_eku_missing",
			Description: "the certificate must carry every extended key usage its role requires",
			Citation:    lint.Cite(lint.SrcPKIReq, "Certificate requirements per role: Enhanced Key Usage"),
			Roles:       rolesOf(leafRoles...),
			Fix:         "ask your CA for a certificate from a template with the role's EKU (Web Server: serverAuth; Workstation Authentication: clientAuth)",
			WinError:    lint.WrongUsage,
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			for _, want := range s.Profile.EKU.Required {
				if !slices.Contains(s.Cert.ExtKeyUsage, want) {
					o := lint.Failf("EKUs are %s; %s is required for %s", EKUNames(s.Cert.ExtKeyUsage), EKUName(want), s.Profile.Role)
					o.Citation = s.Profile.EKU.Cite
					return o
				}
			}
			return lint.PassOutcome
		},
	})
}
