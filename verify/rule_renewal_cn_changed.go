package verify

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// When the CMG server authentication certificate is renewed (Properties >
// Settings > Certificate file), the new certificate's CN must be identical
// to the old one's, compared case-sensitively: granitefalls.contoso.com is
// not GRANITEFALLS.CONTOSO.COM ([MOD]). The wizard refuses it with "New
// certificate must have the same CName as previous certificate." (failure
// F08). The CN is the service name, so this also keeps the service name.
func init() {
	renewalRules.Register(lint.Rule[RenewalSubject]{
		Meta: lint.Meta{
			Name:        "e_renewal_cn_changed",
			Description: "a renewed CMG certificate must have exactly the CN of the certificate it replaces (case-sensitive)",
			Citation:    lint.Cite(lint.SrcModify, "Renew the server authentication certificate: the CN must be identical, compared case-sensitively"),
			Fix:         "ask your CA to reissue the certificate with the previous CN, byte for byte (same letter case); a new service name needs a new CMG",
		},
		Check: func(s RenewalSubject, _ lint.Env) lint.Outcome {
			o, n := s.Old.Subject.CommonName, s.New.Subject.CommonName
			if o == n {
				return lint.PassOutcome
			}
			if strings.EqualFold(o, n) {
				return lint.Failf("the existing certificate has CN %q, the new one %q: they differ in letter case, and the CMG compares case-sensitively", o, n)
			}
			return lint.Failf("the existing certificate has CN %q, the new one %q; the CN must stay the same", o, n)
		},
	})
}
