package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// Server and client certificates must be signed with SHA-2; Windows does not
// trust SHA-1 ([PKIREQ]); MD5 never. RSA-PSS is refused too: older Windows
// and Azure endpoints mishandle it, and Windows CAs never issue it. A root's
// self-signature is not judged: a trust anchor is trusted as it sits in the
// store and its signature is never verified (RFC 5280 6.1.1, and Windows
// exempts "manually-installed enterprise or self-signed" certificates from
// its SHA-1 block, windows-trust.md §1). The rule names no Windows error:
// under an enterprise root Windows builds the chain; SHA-2 is a ConfigMgr
// requirement ([PKIREQ]). The chain's own warning sha1_signature about the
// same certificate is dropped from a report where this rule fires.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_signature_not_sha2",
			Description: "the certificate must be signed with SHA-256/384/512 RSA PKCS#1 v1.5 or ECDSA",
			Citation:    citeSHA2,
			Fix:         "ask your CA for a certificate signed with SHA-256 (RSA PKCS#1 v1.5 or ECDSA)",
			Roles:       rolesOf(IssuingCA, WPJCA, CMGServer, MPHTTPS, CMGConnectionPoint, PKIClient, WPJDevice, OCSPSigner),
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			switch s.Cert.SignatureAlgorithm {
			case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
				x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
				return lint.PassOutcome
			}
			return lint.Failf("signature algorithm is %s; SHA-2 with RSA PKCS#1 v1.5 or ECDSA is required", s.Cert.SignatureAlgorithm)
		},
	})
}
