package profiles

import "github.com/cmgpki/cmgpki/lint"

// The CMG server and client-auth certificates must be RSA 2048 or 4096
// ([SAC], [AUTH]); IIS site systems RSA because clients support only RSA
// with CNG ([CNG]); WPJ device keys are RSA 2048 ([DVRJ]). CA keys are not
// restricted by Microsoft: RSA and ECDSA (P-256, P-384, P-521) as Windows
// verifies them, UNCONFIRMED and so at most a warning. The accepted keys are
// the requirement's, not what cmgpki can generate.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_key_type_not_allowed",
			Description: "the public key must be an algorithm and size the role's requirement accepts",
			Citation:    lint.Cite(lint.SrcSAC, "Key length 2048 or 4096 bits"),
			Fix:         "ask your CA for a certificate with an accepted key (RSA 2048 is accepted by every CMG role)",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if s.Profile.Keys.Accepts(s.Cert.PublicKey) {
				return lint.PassOutcome
			}
			o := lint.Failf("key is %s; %s accepts %s", DescribeKey(s.Cert.PublicKey), s.Profile.Role, s.Profile.Keys)
			o.Citation = s.Profile.Keys.Cite
			o.Unconfirmed = s.Profile.Keys.Unconfirmed()
			return o
		},
	})
}
