package profiles

import (
	"slices"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// TLS clients match names against SAN dNSNames and ignore the CN when a SAN is
// present (RFC 6125); Microsoft names only the CN for the CMG certificate
// ([SAC]), so keeping the CN in the SAN is the safe choice (UNCONFIRMED as a
// Microsoft requirement, hence a warning). It applies when there is both a
// CN and a DNS SAN: a certificate without a SAN is w_san_missing's case, and
// an AD CS Workstation Authentication certificate with an empty subject and
// the FQDN in the SAN is what that template issues.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_cn_not_in_san",
			Description: "the subject CN of a server or client FQDN certificate should also be a SAN dNSName",
			Citation:    lint.Cite(lint.SrcSAC, "CMG service name is the certificate CN (SAN = CN is the safe lab choice; UNCONFIRMED)"),
			Roles:       rolesOf(CMGServer, MPHTTPS, CMGConnectionPoint, PKIClient),
			Fix:         "ask your CA for a certificate with the CN repeated as the first SAN dNSName",
		},
		Applies: func(s Subject) bool { return s.Cert.Subject.CommonName != "" && len(s.Cert.DNSNames) > 0 },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			cn := s.Cert.Subject.CommonName
			if !slices.ContainsFunc(s.Cert.DNSNames, func(n string) bool { return strings.EqualFold(n, cn) }) {
				return lint.Failf("CN %q is not among the SAN dNSNames %q", cn, s.Cert.DNSNames)
			}
			return lint.PassOutcome
		},
	})
}
