package profiles

import (
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// ExpiryWindow is how long before notAfter w_expiring_soon warns.
const ExpiryWindow = 30 * 24 * time.Hour

// ConfigMgr raises no alert when the CMG server certificate expires; clients
// then fail with CERT_E_EXPIRED until a renewed certificate is uploaded
// under Properties > Settings ([MOD]; failure F07). A certificate that
// expires within 30 days of Env.At is a warning, for every role: an expiring
// CA takes everything under it along.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_expiring_soon",
			Description: "the certificate should not expire within 30 days of the evaluation time",
			Citation:    lint.Cite(lint.SrcModify, "Renew the server authentication certificate: Properties, Settings, Certificate file"),
			Fix:         "ask your CA for a renewed certificate now and deploy it before notAfter",
		},
		Check: func(s Subject, env lint.Env) lint.Outcome {
			if env.At.IsZero() || env.At.Before(s.Cert.NotBefore) || env.At.After(s.Cert.NotAfter) {
				return lint.PassOutcome // no moment, or outside validity: e_not_valid_at speaks
			}
			if left := s.Cert.NotAfter.Sub(env.At); left <= ExpiryWindow {
				return lint.Failf("expires at %s, %d day(s) after %s; renew at least 30 days ahead",
					s.Cert.NotAfter.UTC().Format(time.RFC3339), int(left.Hours()/24), env.At.UTC().Format(time.RFC3339))
			}
			return lint.PassOutcome
		},
	})
}
