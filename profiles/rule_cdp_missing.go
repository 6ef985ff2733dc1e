package profiles

import "github.com/cmgpki/cmgpki/lint"

// ConfigMgr clients check the CRL of site systems by default and IIS always
// checks client certificates; a client that cannot locate revocation data
// treats the chain as revoked ([PLANCERT]). Windows reads revocation data
// from an http CRL distribution point or, first, an OCSP URL in the AIA
// ([REVOKE]). Which pointers a certificate carries is its CA's choice: a CA
// may publish no CDP on purpose (OCSP only, or a deployment where
// revocation checking is off), so a certificate without any is a warning
// for the revocation-checking scenario, never an error. It fires only when
// the certificate has no pointer at all (its Windows error,
// CRYPT_E_NO_REVOCATION_CHECK, is that case's); pointers that are not
// http:// (ldap:// only) are w_revocation_url_not_http's, which names no
// Windows error in its column because the error depends on what the client
// reaches.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_cdp_missing",
			Description: "a revocation-checked role should carry a CRL distribution point or OCSP URL",
			Citation:    CitePlanCertRevocation,
			Fix:         "ask your CA for a certificate with an http:// CDP (or OCSP URL) clients can reach, or turn off CRL checking for site systems in the site's Communication Security settings",
			// No pointer at all: CERT_TRUST_REVOCATION_STATUS_UNKNOWN, which
			// the chain policy reports as CRYPT_E_NO_REVOCATION_CHECK.
			WinError: lint.NoRevocationCheck,
		},
		Applies: func(s Subject) bool { return s.Profile.Revocation.Checked },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if len(s.Cert.CRLDistributionPoints)+len(s.Cert.OCSPServer) > 0 {
				return lint.PassOutcome // w_revocation_url_not_http judges the scheme
			}
			return lint.Failf("the certificate has no CRL distribution point and no OCSP URL; with revocation checking on (the ConfigMgr default) a client cannot check it and fails with CRYPT_E_NO_REVOCATION_CHECK 0x80092012")
		},
	})
}
