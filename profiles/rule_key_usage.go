package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// Client-auth certificates need Key Usage Digital Signature and Key
// Encipherment ([PKIREQ]: 0xa0); the connection point filters on digital
// signature first ([KB]); CA certificates need keyCertSign and cRLSign
// (RFC 5280 4.2.1.3) and nothing more. The required bits are the
// requirement's; bits an issuer adds are allowed, and a bit only inferred
// (UNCONFIRMED) is at most a warning. keyCertSign on a CA is left to
// e_ca_key_cert_sign_missing, so that one defect is one finding.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_key_usage_missing",
			Description: "the certificate must carry every key usage bit its role's requirement cites (a client certificate without them is not selected: the connection point filters on digital signature first)",
			Citation:    lint.Cite(lint.SrcPKIReq, "Client certificates: Key Usage Digital Signature and Key Encipherment (0xa0)"),
			Fix:         "ask your CA for a certificate with the role's Key Usage (clients: digitalSignature, keyEncipherment; CAs: keyCertSign, cRLSign)",
			// No Windows error: the documented effect of a missing bit is
			// that the certificate is not selected (the connection point's
			// "Filtered cert count with digital signature", F17), not a
			// CryptoAPI chain status; CERT_E_WRONG_USAGE is the EKU's.
		},
		Applies: func(s Subject) bool { return !s.Profile.KeyUsage.Omit },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			want := s.Profile.KeyUsage.Required
			if s.Profile.IsCA {
				want &^= x509.KeyUsageCertSign
			}
			if s.Cert.KeyUsage&want != want {
				o := lint.Failf("Key Usage is %s; %s is required for %s",
					KeyUsageNames(s.Cert.KeyUsage), KeyUsageNames(want&^s.Cert.KeyUsage), s.Profile.Role)
				o.Citation = s.Profile.KeyUsage.Cite
				o.Unconfirmed = s.Profile.KeyUsage.Unconfirmed()
				return o
			}
			return lint.PassOutcome
		},
	})
}
