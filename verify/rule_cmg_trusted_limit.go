package verify

import (
	"github.com/cmgpki/cmgpki/lint"
)

// Up to Configuration Manager 1902, the CMG takes at most two trusted root
// CA certificates and four intermediate CA certificates ([SETUP], the
// 2020-06-10 revision; [AUTH]). Later versions state no limit, so the rule
// is not in effect for them (NE), nor for the latest version (CMVersion 0).
func init() {
	cmgTrustedRules.Register(lint.Rule[CMGTrustedSubject]{
		Meta: lint.Meta{
			Name:        "e_cmg_trusted_limit",
			Description: "up to version 1902 the CMG takes at most 2 trusted root and 4 intermediate CA certificates",
			Citation:    lint.Cite(lint.SrcSetup, "Certificates: version 1902 and earlier, up to two trusted root CAs and four intermediate (subordinate) CAs"),
			Fix:         "keep at most 2 roots and 4 intermediates in the CMG's certificate list, or update the site past 1902",
			Effective:   lint.Effective{Until: 1903},
		},
		Check: func(s CMGTrustedSubject, _ lint.Env) lint.Outcome {
			roots, inter := 0, 0
			for _, c := range s.Trusted {
				if isSelfIssued(c) {
					roots++
				} else {
					inter++
				}
			}
			if roots > 2 || inter > 4 {
				return lint.Failf("%d root(s) and %d intermediate(s); at most 2 roots and 4 intermediates up to version 1902", roots, inter)
			}
			return lint.PassOutcome
		},
	})
}
