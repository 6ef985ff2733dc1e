package profiles

import "github.com/cmgpki/cmgpki/lint"

// notAfter must lie after notBefore (RFC 5280 4.1.2.5); a zero validity is
// what an x509util template without dates silently produces.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_validity_empty",
			Description: "notAfter must be later than notBefore",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.1.2.5 Validity"),
			Fix:         "ask your CA for a certificate with notAfter later than notBefore",
			WinError:    lint.Expired,
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if !s.Cert.NotAfter.After(s.Cert.NotBefore) {
				return lint.Failf("validity is %s to %s; notAfter must be after notBefore",
					s.Cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z"), s.Cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
			}
			return lint.PassOutcome
		},
	})
}
