package verify

import (
	"crypto/x509"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// A chain must reach a trusted root through certificates the client has:
// the ones sent or stored with the certificate and the client's stores.
// Without an issuer for an element CryptoAPI sets CERT_TRUST_IS_PARTIAL_CHAIN
// and the client logs an invalid CA ([CHAIN]; failure F15: the intermediate
// missing from the PFX and the client's store, and AIA unreachable).
func init() {
	chainRules.Register(lint.Rule[ChainSubject]{
		Meta: lint.Meta{
			Name:        "e_chain_incomplete",
			Description: "the chain must be complete: an issuer for every element up to a root",
			Citation:    lint.Cite(lint.SrcChain, "CERT_TRUST_IS_PARTIAL_CHAIN: the chain could not be built up to a root"),
			Fix:         "include the intermediate CA certificates in the PFX (or install them in the client's Intermediate Certification Authorities store) and publish them at the AIA URL; when the certificate names an http:// AIA caIssuers URL, check again with --aia-fetch: Windows fetches the issuer from it",
			WinError:    lint.Chaining,
		},
		Check: func(s ChainSubject, _ lint.Env) lint.Outcome {
			for _, e := range s.Result.Elements {
				if e.Status.Has(TrustIsPartialChain) {
					for _, p := range e.Problems {
						if strings.HasPrefix(p, "no issuer found") {
							if u := httpCAIssuers(e.Cert); u != "" && len(s.Result.AIA) == 0 {
								return lint.Failf("%s; its AIA caIssuers URL %s was not fetched: check again with --aia-fetch, as Windows fetches it", p, u)
							}
							return lint.Failf("%s", p)
						}
					}
				}
			}
			return lint.PassOutcome
		},
	})
}

// httpCAIssuers is the first http:// AIA caIssuers URL of c ("" when none).
func httpCAIssuers(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	for _, u := range c.IssuingCertificateURL {
		if strings.HasPrefix(strings.ToLower(u), "http://") {
			return u
		}
	}
	return ""
}
