package profiles

import "github.com/cmgpki/cmgpki/lint"

// A server certificate without a DNS name in its SAN is matched by its
// subject CN only. Windows still falls back to the CN (windows-trust.md §1;
// [PKIREQ] accepts the FQDN "in the Subject or SAN"), but RFC 2818 3.1 calls
// the CN deprecated and other clients (browsers, Go since 1.15, curl with
// modern TLS stacks) refuse a CN-only certificate: a warning.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_san_missing",
			Description: "a server certificate should carry its FQDNs as SAN dNSNames: Windows falls back to the CN, other clients do not",
			Citation:    lint.Cite(lint.SrcRFC2818, "3.1 Server Identity: a dNSName subjectAltName MUST be used when present; the Common Name is deprecated"),
			Roles:       rolesOf(CMGServer, MPHTTPS),
			Fix:         "ask your CA for a certificate with the FQDNs (the CN first) as SAN dNSNames",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if len(s.Cert.DNSNames) > 0 {
				return lint.PassOutcome
			}
			return lint.Failf("no SAN dNSName; the name %q is only in the subject CN: Windows accepts it, browsers and other TLS clients do not", s.Cert.Subject.CommonName)
		},
	})
}
