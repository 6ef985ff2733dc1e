package verify

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// When clients authenticate to the CMG with PKI certificates, the CMG
// needs the trusted root and every intermediate CA certificate of their
// chains, uploaded as .cer files under Properties > Certificates ([AUTH],
// [SETUP]). With only the root, PKI clients get 401 Unauthorized until the
// intermediate is added (failure F16). Two rules: the roots and the
// intermediates, because the two have different fixes.
//
// The failure is the CMG's, not the client's: the client's own chain is
// fine, and the CMG refuses its requests (F16: 401 Unauthorized; the
// handshake simulator answers 403 CMGService_ClientCertificateNotTrusted).
// No Windows error is logged for it on the client, so the rules carry none.
func init() {
	cmgTrustedRules.Register(lint.Rule[CMGTrustedSubject]{
		Meta: lint.Meta{
			Name:        "e_cmg_trusted_root_missing",
			Description: "the CMG's trusted certificates must include the root CA of every PKI client chain",
			Citation:    lint.Cite(lint.SrcAuth, "Client authentication certificate: add the trusted root CA certificates of the client certificates to the CMG"),
			Fix:         "add the root CA certificate (.cer) of the client certificates under the CMG's Properties > Certificates",
		},
		Applies: func(s CMGTrustedSubject) bool { return len(s.ClientChains) > 0 },
		Check: func(s CMGTrustedSubject, _ lint.Env) lint.Outcome {
			return missing(s, func(i, n int, c *x509.Certificate) bool { return i == n-1 && isSelfIssued(c) }, "root")
		},
	})
	cmgTrustedRules.Register(lint.Rule[CMGTrustedSubject]{
		Meta: lint.Meta{
			Name:        "e_cmg_trusted_intermediate_missing",
			Description: "the CMG's trusted certificates must include every intermediate CA of every PKI client chain",
			Citation:    lint.Cite(lint.SrcAuth, "Client authentication certificate: add the root and every intermediate CA certificate of the client certificates to the CMG"),
			Fix:         "add each intermediate CA certificate (.cer) of the client chains under the CMG's Properties > Certificates, next to the root",
		},
		Applies: func(s CMGTrustedSubject) bool { return len(s.ClientChains) > 0 },
		Check: func(s CMGTrustedSubject, _ lint.Env) lint.Outcome {
			return missing(s, func(i, n int, c *x509.Certificate) bool { return i > 0 && !isSelfIssued(c) }, "intermediate")
		},
	})
}

// missing reports the certificates of the client chains selected by pick
// (index, chain length, certificate) that are not among s.Trusted.
func missing(s CMGTrustedSubject, pick func(i, n int, c *x509.Certificate) bool, what string) lint.Outcome {
	var out []string
	seen := map[string]bool{}
	for _, ch := range s.ClientChains {
		for i, c := range ch {
			if !pick(i, len(ch), c) || trustedHas(s.Trusted, c) {
				continue
			}
			name := fmt.Sprintf("%s (for %s)", displayName(c), displayName(ch[0]))
			if !seen[string(c.Raw)] {
				seen[string(c.Raw)] = true
				out = append(out, name)
			}
		}
	}
	if len(out) == 0 {
		return lint.PassOutcome
	}
	return lint.Failf("%s CA certificate(s) not among the CMG's trusted certificates: %s; the CMG refuses these PKI clients "+
		"(401 Unauthorized, cmg-failures.md F16; the handshake simulator answers 403 CMGService_ClientCertificateNotTrusted)", what, strings.Join(out, "; "))
}

// trustedHas reports whether trusted holds c, or a certificate of the same
// subject and key (a re-issued CA certificate serves as well).
func trustedHas(trusted []*x509.Certificate, c *x509.Certificate) bool {
	for _, t := range trusted {
		if bytes.Equal(t.Raw, c.Raw) || bytes.Equal(t.RawSubject, c.RawSubject) && bytes.Equal(t.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}
