package profiles

import (
	"slices"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// An IIS site system (management point, DP, SUP) certificate holds the
// site system's internet FQDN and/or intranet FQDN in the Subject or the SAN
// ([PKIREQ] "Site systems that run IIS"). Without expected names, at least
// one FQDN must be there; with Subject.ExpectedNames (--name) each of them
// must be, literally, as the SAN dNSName or the subject CN.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_mp_fqdn_missing",
			Description: "a site system certificate must carry its intranet and/or internet FQDN in the subject CN or a SAN dNSName",
			Citation:    lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: internet FQDN and/or intranet FQDN in Subject or SAN"),
			Roles:       rolesOf(MPHTTPS),
			Fix:         "ask your CA for a certificate with the site system's intranet and internet FQDNs as SAN dNSNames",
			WinError:    lint.NameMismatch,
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			c := s.Cert
			names := append([]string{}, c.DNSNames...)
			if c.Subject.CommonName != "" {
				names = append(names, c.Subject.CommonName)
			}
			if len(s.ExpectedNames) == 0 {
				if slices.ContainsFunc(names, func(n string) bool { return CheckDNSName(n, false) == nil }) {
					return lint.PassOutcome
				}
				return lint.Failf("neither the subject CN %q nor the SAN dNSNames %q hold an FQDN", c.Subject.CommonName, c.DNSNames)
			}
			var missing []string
			for _, want := range s.ExpectedNames {
				if !slices.ContainsFunc(names, func(n string) bool {
					return strings.EqualFold(strings.TrimSuffix(n, "."), strings.TrimSuffix(want, "."))
				}) {
					missing = append(missing, want)
				}
			}
			if len(missing) > 0 {
				return lint.Failf("%q not in the subject CN %q or the SAN dNSNames %q", missing, c.Subject.CommonName, c.DNSNames)
			}
			return lint.PassOutcome
		},
	})
}
