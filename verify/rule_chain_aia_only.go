package verify

import "github.com/cmgpki/cmgpki/lint"

// Windows downloads a missing intermediate from the AIA caIssuers URL by
// default ([CHAIN]: retrieval unless CERT_CHAIN_DISABLE_AIA); Go, OpenSSL,
// browsers on other systems and a Windows client without access to the URL
// do not (windows-trust.md §1; failure F15). A chain complete only through
// AIA works on a connected Windows client and fails elsewhere: a warning.
func init() {
	chainRules.Register(lint.Rule[ChainSubject]{
		Meta: lint.Meta{
			Name:        "w_chain_complete_only_through_aia",
			Description: "the chain should be complete without AIA fetching: Windows fetches missing issuers, other clients do not",
			Citation:    lint.Cite(lint.SrcChain, "AIA retrieval of missing issuer certificates (CERT_CHAIN_DISABLE_AIA turns it off)"),
			Fix:         "include the intermediate CA certificates in the PFX or send them with the certificate, so that clients need no AIA download",
			WinError:    lint.Chaining, // where the AIA URL is unreachable
		},
		Check: func(s ChainSubject, _ lint.Env) lint.Outcome {
			for _, w := range s.Result.Warnings {
				if w.Code == "complete_only_through_aia" {
					return lint.Failf("%s", w.Message)
				}
			}
			return lint.PassOutcome
		},
	})
}
