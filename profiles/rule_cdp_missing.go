package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// The CRL distribution point is baked into a certificate at issue time, and a
// client that cannot locate the CRL behaves as if every certificate in the
// chain were revoked ([PLANCERT]); IIS always checks client certificates.
// So every role that is revocation-checked needs an http CDP.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_cdp_missing",
			Description: "revocation-checked roles must carry an http:// CRL distribution point",
			Citation:    citeCDPBakedIn,
			Fix:         "reissue with --base-url pointing at a host clients can reach over plain HTTP",
			WinError:    "CRYPT_E_NO_REVOCATION_CHECK 0x80092012 / CRYPT_E_REVOCATION_OFFLINE 0x80092013",
		},
		Applies: func(s Subject) bool { return s.Profile.Revocation.CDP },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			for _, u := range s.Cert.CRLDistributionPoints {
				if strings.HasPrefix(strings.ToLower(u), "http://") {
					return lint.PassOutcome
				}
			}
			return lint.Failf("CRL distribution points are %q; an http:// URL is required", s.Cert.CRLDistributionPoints)
		},
	})
}
