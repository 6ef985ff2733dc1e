package profiles

import "github.com/cmgpki/cmgpki/lint"

// The CMG server and client-auth certificates must be RSA 2048 or 4096
// ([SAC], [AUTH]); IIS site systems RSA because clients support only RSA
// with CNG ([CNG]); WPJ device keys are RSA 2048 ([DVRJ]). The allowed list
// is the profile's.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_key_type_not_allowed",
			Description: "the public key must be an algorithm and size the role allows",
			Citation:    lint.Cite(lint.SrcSAC, "Key length 2048 or 4096 bits"),
			Fix:         "reissue with an allowed key (RSA 2048 is accepted by every CMG role)",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			k, err := KeyTypeOf(s.Cert.PublicKey)
			if err != nil || !s.Profile.AllowsKey(k) {
				got := string(k)
				if err != nil {
					got = err.Error()
				}
				o := lint.Failf("key is %s; %s allows %s", got, s.Profile.Role, JoinKeyTypes(s.Profile.Keys.Allowed))
				o.Citation = s.Profile.Keys.Cite
				return o
			}
			return lint.PassOutcome
		},
	})
}
