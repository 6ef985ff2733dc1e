package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// An Entra device (Workplace Join) certificate is issued by the
// MS-Organization-Access CA: the issuer is the multi-valued RDN DC=net +
// DC=windows + CN=MS-Organization-Access + OU=<82dbaca4-...> ([HDHC]; the
// on-premises DRS of [DVRJ] 4.1 uses the same CN). Windows and the
// ConfigMgr client find the device certificate by that issuer, so a
// certificate of another issuer is not a device certificate at all.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_wpj_issuer_not_ms_organization_access",
			Description: "an Entra device certificate must be issued by CN=MS-Organization-Access",
			Citation:    lint.Cite(lint.SrcHDHC, "device certificate issuer DC=net + DC=windows + CN=MS-Organization-Access + OU=82dbaca4-..."),
			Roles:       rolesOf(WPJDevice),
			Fix:         "the device certificate comes from Entra device registration; re-register or re-join the device (dsregcmd /leave, then join) to get one",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			for _, a := range s.Cert.Issuer.Names {
				if a.Type.Equal(oidCN) {
					if v, ok := a.Value.(string); ok && strings.EqualFold(v, "MS-Organization-Access") {
						return lint.PassOutcome
					}
				}
			}
			return lint.Failf("issuer is %q; want CN=MS-Organization-Access", s.Cert.Issuer.String())
		},
	})
}
