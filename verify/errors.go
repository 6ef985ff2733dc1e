package verify

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// Reason says why a chain is not trusted.
type Reason string

// Reasons, from the most to the least fundamental. When a path has several
// problems, ChainError carries the first in this order.
const (
	ReasonMalformed         Reason = "malformed"           // an element breaks RFC 5280 encoding rules
	ReasonBadSignature      Reason = "bad_signature"       // an element's signature does not verify
	ReasonPartialChain      Reason = "partial_chain"       // no issuer found for an element
	ReasonUntrustedRoot     Reason = "untrusted_root"      // the path ends at a root that is not trusted
	ReasonTooDeep           Reason = "too_deep"            // more elements than ChainOptions.MaxDepth
	ReasonBasicConstraints  Reason = "basic_constraints"   // an issuer is not a CA, lacks keyCertSign, or pathLen
	ReasonNameConstraints   Reason = "name_constraints"    // a name violates or cannot be checked against a constraint
	ReasonInvalidExtension  Reason = "invalid_extension"   // unknown critical extension or a misused one
	ReasonExpired           Reason = "expired"             // an element's validity ended before At
	ReasonNotYetValid       Reason = "not_yet_valid"       // an element's validity starts after At
	ReasonRevoked           Reason = "revoked"             // a CRL lists an element
	ReasonWrongUsage        Reason = "wrong_usage"         // a required EKU or key usage is not allowed
	ReasonRevocationOffline Reason = "revocation_offline"  // no usable CRL for an element
	ReasonNoRevocationCheck Reason = "no_revocation_check" // an element has no CDP, no OCSP URL and no supplied CRL
	ReasonNameMismatch      Reason = "name_mismatch"       // the leaf is not valid for the expected name
)

// Windows returns the error a Windows client logs for r.
func (r Reason) Windows() WindowsError {
	switch r {
	case ReasonUntrustedRoot:
		return WinUntrustedRoot
	case ReasonPartialChain, ReasonTooDeep:
		return WinChaining
	case ReasonRevocationOffline:
		return WinRevocationOffline
	case ReasonNoRevocationCheck:
		return WinNoRevocationCheck
	case ReasonRevoked:
		return WinRevoked
	case ReasonExpired, ReasonNotYetValid:
		return WinExpired // Windows logs CERT_E_EXPIRED for both (windows-trust.md §2: time invalid)
	case ReasonNameMismatch:
		return WinNameMismatch
	case ReasonWrongUsage:
		return WinWrongUsage
	case ReasonBadSignature:
		return WinBadSignature
	case ReasonBasicConstraints:
		return WinBasicConstraints
	case ReasonNameConstraints:
		return WinInvalidName
	case ReasonInvalidExtension:
		return WinCritical
	default:
		return WinMalformed
	}
}

// Fix returns a one-line fix for r, worded for any certificate.
func (r Reason) Fix() string {
	switch r {
	case ReasonUntrustedRoot:
		return "import the issuing root CA into the client's Trusted Root Certification Authorities store"
	case ReasonPartialChain:
		return "supply the missing intermediate CA certificate (or make it reachable through the AIA caIssuers URL)"
	case ReasonTooDeep:
		return "shorten the chain or raise the maximum depth"
	case ReasonRevocationOffline:
		return "publish the CRL at the certificate's CDP URL and make it reachable from the client, or supply it with --crl"
	case ReasonNoRevocationCheck:
		return "ask your CA to publish a CRL distribution point (http) in the certificates it issues"
	case ReasonRevoked:
		return "ask your CA for a new certificate; this one is revoked"
	case ReasonExpired:
		return "ask your CA to renew the expired certificate"
	case ReasonNotYetValid:
		return "check the clocks of the CA and the client, or wait until the certificate's validity starts"
	case ReasonNameMismatch:
		return "ask your CA for a certificate with the host name in the Subject Alternative Name"
	case ReasonWrongUsage:
		return "ask your CA for a certificate (and CA chain) that allows the required enhanced key usage"
	case ReasonBadSignature:
		return "the certificate was not signed by the issuer found; supply the right issuer"
	case ReasonBasicConstraints:
		return "the issuer is not a valid CA for this path; ask your CA for a correct CA certificate"
	case ReasonNameConstraints:
		return "the name is outside what the issuing CA may certify; ask that CA's owner"
	case ReasonInvalidExtension:
		return "ask your CA for a certificate without the offending extension"
	default:
		return "ask your CA for a well-formed certificate"
	}
}

// ChainError is returned by Chain when the leaf is not trusted for the
// requested use. Reason is the most fundamental problem; Detail says which
// element and why; Rejected lists the other candidate paths and why each
// failed ("candidates exhausted").
type ChainError struct {
	Reason   Reason            `json:"reason"`
	Cert     *x509.Certificate `json:"-"`
	Subject  string            `json:"subject,omitempty"`
	Detail   string            `json:"detail"`
	Windows  WindowsError      `json:"windows"`
	Fix      string            `json:"fix"`
	Rejected []string          `json:"-"` // also in ChainResult.Rejected
}

func (e *ChainError) Error() string {
	s := fmt.Sprintf("verify: %s: %s", e.Reason, e.Detail)
	if e.Subject != "" {
		s = fmt.Sprintf("verify: %s: %q: %s", e.Reason, e.Subject, e.Detail)
	}
	s += " (" + e.Windows.Name + " " + e.Windows.HRESULT.String() + ")"
	if len(e.Rejected) > 0 {
		s += "; candidates exhausted: " + strings.Join(e.Rejected, "; ")
	}
	return s
}
