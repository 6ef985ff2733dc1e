package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// A client authentication certificate (a Windows client, the CMG connection
// point) needs a unique value in the Subject or the SAN ([PKIREQ] "Client
// certificates"): the site identifies the client by it. An AD CS
// Workstation Authentication certificate has an empty subject and the
// computer's FQDN in the SAN, which is enough.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_client_identity_missing",
			Description: "a client authentication certificate must have a non-empty subject or SAN",
			Citation:    lint.Cite(lint.SrcPKIReq, "Client certificates: a unique value in the Subject or Subject Alternative Name"),
			Roles:       rolesOf(PKIClient, CMGConnectionPoint),
			Fix:         "ask your CA for a certificate with the computer's FQDN in the subject CN or the SAN (Workstation Authentication template)",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if hasSubject(s.Cert) || hasSAN(s.Cert) {
				return lint.PassOutcome
			}
			return lint.Failf("subject and SAN are both empty")
		},
	})
}

func hasSubject(c *x509.Certificate) bool { return len(c.Subject.Names) > 0 }

func hasSAN(c *x509.Certificate) bool {
	return len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) > 0
}
