package profiles

import "github.com/cmgpki/cmgpki/lint"

// Site systems need their FQDNs (intranet and internet) in the subject or SAN
// ([PKIREQ]); clients match the server name against SAN dNSNames, and a
// wildcard is supported only as *.domain ([SETUP]). Every dNSName must be a
// well-formed FQDN. Whether a SAN is present at all is not this rule's
// question: [PKIREQ] accepts the FQDN in the subject, so a CN-only
// certificate is w_san_missing's warning and e_mp_fqdn_missing's check.
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
			for _, n := range s.Cert.DNSNames {
				if err := CheckDNSName(n, s.Profile.Names.AllowWildcard); err != nil {
					return lint.Failf("%v", err)
				}
			}
			return lint.PassOutcome
		},
	})
}
