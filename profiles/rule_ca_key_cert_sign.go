package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// A CA certificate's key verifies the signatures on the certificates it
// issues, so its Key Usage must assert keyCertSign (RFC 5280 4.2.1.3: CAs
// MUST include Key Usage in certificates whose keys validate signatures on
// other certificates). Without it a Windows client (and this package's
// chain engine) refuses the CA as an issuer of every certificate below it.
// e_key_usage_missing leaves keyCertSign to this rule.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_ca_key_cert_sign_missing",
			Description: "a CA certificate must assert keyCertSign in its Key Usage",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.2.1.3 Key Usage: keyCertSign on certificates whose key verifies certificate signatures"),
			Roles:       rolesOf(caRoles...),
			Fix:         "ask the CA's owner for a CA certificate with Key Usage keyCertSign and cRLSign",
			WinError:    lint.WinError{Name: "TRUST_E_BASIC_CONSTRAINTS", HRESULT: 0x80096019},
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			ku := s.Cert.KeyUsage
			if ku&x509.KeyUsageCertSign != 0 {
				return lint.PassOutcome
			}
			if _, ok := FindExtension(s.Cert, oidKeyUsage); !ok {
				return lint.Failf("the CA certificate has no Key Usage extension; keyCertSign is required")
			}
			return lint.Failf("Key Usage is %s; a CA needs keyCertSign to sign certificates", KeyUsageNames(ku))
		},
	})
}
