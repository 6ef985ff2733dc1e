package profiles

import "github.com/cmgpki/cmgpki/lint"

// Site systems need their FQDNs (intranet and internet) in the subject or SAN
// ([PKIREQ]); clients match the server name against SAN dNSNames, and a
// wildcard is supported only as *.domain ([SETUP]). Every dNSName must be a
// well-formed FQDN.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_dns_name_invalid",
			Description: "every SAN dNSName must be a fully qualified name, with a wildcard only as the whole leftmost label where the role allows it",
			Citation:    lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: FQDN in Subject or SAN"),
			Roles:       rolesOf(CMGServer, MPHTTPS, CMGConnectionPoint, PKIClient),
			Fix:         "ask your CA for a certificate with valid FQDNs in the SAN",
			WinError:    lint.NameMismatch,
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if len(s.Cert.DNSNames) < s.Profile.Names.MinDNSNames {
				o := lint.Failf("SAN has %d dNSNames; %s needs at least %d", len(s.Cert.DNSNames), s.Profile.Role, s.Profile.Names.MinDNSNames)
				o.Citation = s.Profile.Names.Cite
				return o
			}
			for _, n := range s.Cert.DNSNames {
				if err := CheckDNSName(n, s.Profile.Names.AllowWildcard); err != nil {
					return lint.Failf("%v", err)
				}
			}
			return lint.PassOutcome
		},
	})
}
