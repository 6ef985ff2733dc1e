package verify

import (
	"crypto"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// A certificate binds its subject to one public key (RFC 5280 4.1.2.7); the
// private key used with it (in the PFX, or given with --key) must be that
// key's pair, or the TLS handshake fails at the first signature. It applies
// when there is a key: in the file, or given apart.
func init() {
	inputRules.Register(lint.Rule[InputSubject]{
		Meta: lint.Meta{
			Name:        "e_key_mismatch",
			Description: "the private key must belong to the certificate",
			Citation:    lint.Cite(lint.SrcRFC5280, "4.1.2.7 Subject Public Key Info: the public key the certificate binds"),
			Fix:         "use the key the certificate was requested with (the CSR's key), or ask your CA for a certificate of this key",
		},
		Applies: func(s InputSubject) bool { _, k := s.key(); return k != nil && s.leaf() != nil },
		Check: func(s InputSubject, _ lint.Env) lint.Outcome {
			from, k := s.key()
			if err := certio.KeyMatchesCertificate(k, s.leaf()); err != nil {
				return lint.Failf("the private key of %s: %v", from, err)
			}
			return lint.PassOutcome
		},
	})
}

// key is the key judged: the one given apart, else the bundle's.
func (s InputSubject) key() (string, crypto.Signer) {
	if s.Key != nil {
		return s.KeyFile, s.Key
	}
	if s.Bundle != nil && s.Bundle.Key != nil {
		return s.Name, s.Bundle.Key
	}
	return "", nil
}
