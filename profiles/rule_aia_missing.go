package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// Windows builds a missing intermediate from the AIA caIssuers URL; without it
// a PFX or store that lacks the intermediate fails as an untrusted chain
// (RFC 5280 4.2.2.1; the F15 failure). The rule names no Windows error: a
// client that has the intermediate builds the chain without AIA; the chain
// check reports chain_partial_chain where one is missing.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_aia_missing",
			Description: "certificates issued by an intermediate should carry an http:// AIA caIssuers URL",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.2.2.1 Authority Information Access"),
			Fix:         "ask your CA for a certificate whose AIA caIssuers URL points at the published issuing CA certificate (http://)",
		},
		Applies: func(s Subject) bool { return s.Profile.Revocation.Checked },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			for _, u := range s.Cert.IssuingCertificateURL {
				if strings.HasPrefix(strings.ToLower(u), "http://") {
					return lint.PassOutcome
				}
			}
			return lint.Failf("AIA caIssuers URLs are %q; an http:// URL is expected", s.Cert.IssuingCertificateURL)
		},
	})
}
