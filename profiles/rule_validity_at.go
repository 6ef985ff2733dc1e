package profiles

import (
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// A certificate is valid from notBefore to notAfter inclusive (RFC 5280
// 4.1.2.5); outside it Windows reports CERT_E_EXPIRED for either side
// (FLAG_CERT_DATE_INVALID, WinHTTP 12037). The moment judged is Env.At, never
// the clock: issuance lints at the certificate's own notBefore.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_not_valid_at",
			Description: "the certificate must be within its validity period at the evaluation time",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.1.2.5 Validity"),
			Fix:         "renew the certificate with your CA (or, if it is not yet valid, check the clock of the machine that uses it)",
			WinError:    lint.Expired,
		},
		Check: func(s Subject, env lint.Env) lint.Outcome {
			if env.At.IsZero() {
				return lint.PassOutcome // no moment given: nothing to judge
			}
			at := env.At.UTC().Format(time.RFC3339)
			switch {
			case env.At.Before(s.Cert.NotBefore):
				return lint.Failf("not yet valid at %s: notBefore is %s", at, s.Cert.NotBefore.UTC().Format(time.RFC3339))
			case env.At.After(s.Cert.NotAfter):
				return lint.Failf("expired at %s: notAfter was %s", at, s.Cert.NotAfter.UTC().Format(time.RFC3339))
			}
			return lint.PassOutcome
		},
	})
}
