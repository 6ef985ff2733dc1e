package profiles

import "github.com/cmgpki/cmgpki/lint"

// A delegated OCSP responder certificate carries id-pkix-ocsp-nocheck so
// that clients do not try to check the revocation of the responder itself
// (RFC 6960 4.2.2.2.1).
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_ocsp_signer_nocheck_missing",
			Description: "a delegated OCSP responder certificate must carry id-pkix-ocsp-nocheck",
			Citation:    lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 Revocation Checking of an Authorized Responder"),
			Roles:       rolesOf(OCSPSigner),
			Fix:         "ask your CA for an OCSP Response Signing certificate with id-pkix-ocsp-nocheck",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if _, ok := FindExtension(s.Cert, OIDOCSPNoCheck); !ok {
				return lint.Failf("id-pkix-ocsp-nocheck (%s) is absent", OIDOCSPNoCheck)
			}
			return lint.PassOutcome
		},
	})
}
