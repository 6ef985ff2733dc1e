package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"github.com/cmgpki/cmgpki/internal/certio"
)

// evaluate checks a candidate path: chain[0] is the leaf; anchored says the
// last element is in the root store.
func (b *builder) evaluate(chain []*x509.Certificate, anchored bool) *path {
	n := len(chain)
	p := &path{path: chain, anchored: anchored, status: make([]TrustStatus, n),
		problems: make([][]string, n), reasons: make([][]Reason, n)}
	at := b.opts.At
	last := n - 1

	if !anchored {
		c := chain[last]
		if isSelfIssued(c) {
			if b.sig(c, c).err == nil {
				p.add(last, TrustIsUntrustedRoot, ReasonUntrustedRoot, "self-signed root %s is not in the trusted root store", displayName(c))
			} else {
				p.add(last, TrustIsPartialChain, ReasonPartialChain, "no issuer found for %s (issuer %q) in the intermediates or roots", displayName(c), certio.DN(c.RawIssuer))
			}
		} else {
			p.add(last, TrustIsPartialChain, ReasonPartialChain, "no issuer found for %s (issuer %q) in the intermediates or roots", displayName(c), certio.DN(c.RawIssuer))
		}
	}

	// Depth: intermediates that are not self-issued, plus leaf and anchor.
	depth := 0
	for i, c := range chain {
		if i == 0 || i == last || !isSelfIssued(c) {
			depth++
		}
	}
	if depth > b.opts.MaxDepth {
		p.add(0, TrustIsPartialChain, ReasonTooDeep, "path of %d certificates exceeds the maximum depth %d", depth, b.opts.MaxDepth)
	}

	for i, c := range chain {
		ci := b.certInfo(c)
		isCA := i > 0
		isAnchor := anchored && i == last

		// Validity at At, with second precision as encoded.
		if !timeValid(c, at) {
			if at.Truncate(1e9).Before(c.NotBefore) {
				p.add(i, TrustIsNotTimeValid, ReasonNotYetValid, "not valid before %s (evaluated at %s)", c.NotBefore.UTC().Format(timeFmt), at.UTC().Format(timeFmt))
			} else {
				p.add(i, TrustIsNotTimeValid, ReasonExpired, "expired at %s (evaluated at %s)", c.NotAfter.UTC().Format(timeFmt), at.UTC().Format(timeFmt))
			}
		}

		// Signature by the next element (the anchor's own is not checked:
		// a trust anchor is trusted as given).
		if i < last {
			r := b.sig(c, chain[i+1])
			if r.err != nil {
				p.add(i, TrustIsNotSignatureValid, ReasonBadSignature, "signature: %v", r.err)
			}
		}
		if !isAnchor {
			switch {
			case c.SignatureAlgorithm == x509.MD5WithRSA || c.SignatureAlgorithm == x509.MD2WithRSA:
				p.add(i, TrustIsNotSignatureValid|TrustHasWeakSignature, ReasonBadSignature, "signed with %v, which Windows refuses", c.SignatureAlgorithm)
			case isSHA1(c.SignatureAlgorithm) && b.opts.RejectSHA1:
				p.add(i, TrustIsNotSignatureValid|TrustHasWeakSignature, ReasonBadSignature, "signed with %v, refused in chains under public roots", c.SignatureAlgorithm)
			case isSHA1(c.SignatureAlgorithm):
				p.warnings = append(p.warnings, Warning{Code: "sha1_signature", Message: fmt.Sprintf("%s is signed with %v: Windows accepts it under an enterprise root, not under a public root; ConfigMgr requires SHA-2", displayName(c), c.SignatureAlgorithm)})
			}
		}

		b.checkStructure(p, i, c, ci, isCA, isAnchor)

		if isCA {
			b.checkIssuer(p, i, c, chain)
		}
	}

	b.checkUsages(p, chain)
	b.checkNameConstraints(p, chain)
	if b.opts.Revocation != RevocationOff {
		p.rev = make([]*RevocationResult, n)
		for i := 0; i < last; i++ {
			if i > 0 && b.opts.Revocation == RevocationEndCert {
				break
			}
			if i == 0 && b.opts.SkipLeafRevocation {
				continue
			}
			r := b.revocation(chain[i], chain[i+1])
			p.rev[i] = r
			switch r.Status {
			case RevRevoked:
				p.add(i, TrustIsRevoked, ReasonRevoked, "%s", r.Detail)
			case RevUnknown:
				p.add(i, TrustRevocationStatusUnknown|TrustIsOfflineRevocation, ReasonRevocationOffline, "%s", r.Detail)
			case RevNoCheck:
				p.add(i, TrustRevocationStatusUnknown, ReasonNoRevocationCheck, "%s", r.Detail)
			}
		}
	}

	for i := range p.status {
		p.score += 10 * len(p.problems[i])
	}
	if !anchored {
		p.score += 1000
	}
	return p
}

const timeFmt = "2006-01-02T15:04:05Z"

// checkStructure applies the RFC 5280 rules on one element that Windows or
// the RFC make fatal.
func (b *builder) checkStructure(p *path, i int, c *x509.Certificate, ci *certInfo, isCA, isAnchor bool) {
	for _, e := range c.Extensions {
		id := e.Id.String()
		if e.Critical && !knownCertExt[id] {
			p.add(i, TrustInvalidExtension|TrustHasNotSupportedCriticalExt, ReasonInvalidExtension, "unsupported critical extension %s", id)
		}
		switch id {
		case oidAKI, oidSKI, oidAIA:
			if e.Critical {
				p.add(i, TrustInvalidExtension, ReasonInvalidExtension, "extension %s must not be critical (RFC 5280 4.2)", extName(id))
			}
		case oidPolicyConstr:
			if !e.Critical {
				p.add(i, TrustInvalidPolicyConstraints, ReasonInvalidExtension, "policy constraints must be critical (RFC 5280 4.2.1.11)")
			}
		}
	}
	if c.Version != 3 && len(c.Extensions) > 0 {
		p.add(i, TrustInvalidExtension, ReasonMalformed, "version %d certificate with extensions", c.Version)
	}
	if c.SerialNumber == nil || c.SerialNumber.Sign() <= 0 {
		p.add(i, TrustInvalidExtension, ReasonMalformed, "serial number is not positive (RFC 5280 4.1.2.2)")
	} else if len(c.SerialNumber.Bytes()) > 20 {
		p.add(i, TrustInvalidExtension, ReasonMalformed, "serial number longer than 20 octets (RFC 5280 4.1.2.2)")
	}
	if ci.ekuPresent && len(ci.eku) == 0 {
		p.add(i, TrustIsNotValidForUsage, ReasonWrongUsage, "empty extended key usage extension: valid for no usage")
	}
	if ci.sanErr != nil {
		p.add(i, TrustInvalidExtension, ReasonMalformed, "subject alternative name: %v", ci.sanErr)
	}
	if ci.emptySubject {
		if isCA {
			p.add(i, TrustInvalidBasicConstraints, ReasonMalformed, "CA certificate with an empty subject (RFC 5280 4.1.2.6)")
		} else if e, ok := ci.ext[oidSAN]; !ok || !e.Critical {
			p.add(i, TrustInvalidExtension, ReasonMalformed, "empty subject without a critical subject alternative name (RFC 5280 4.1.2.6)")
		}
	}
	// AKI: required except in self-signed certificates (RFC 5280 4.2.1.1).
	if _, ok := ci.ext[oidAKI]; !ok {
		selfSigned := isSelfIssued(c)
		if selfSigned {
			selfSigned = b.sig(c, c).err == nil
		}
		switch {
		case selfSigned:
		case b.opts.Policy == PolicyRFC5280:
			p.add(i, TrustInvalidExtension, ReasonMalformed, "no authority key identifier (RFC 5280 4.2.1.1)")
		default:
			p.warnings = append(p.warnings, Warning{Code: "aki_missing",
				Message: fmt.Sprintf("%s has no authority key identifier, which RFC 5280 4.2.1.1 requires: Windows builds the chain by name and accepts it; strict RFC 5280 verifiers refuse it", displayName(c)),
				Source:  "RFC 5280 4.2.1.1; windows-trust.md §1; cmg-reference.md §4"})
		}
	}
	// SKI: required in CA certificates (RFC 5280 4.2.1.2).
	if (isCA || c.IsCA) && len(c.SubjectKeyId) == 0 && (isCA || isAnchor) {
		p.add(i, TrustInvalidExtension, ReasonMalformed, "CA certificate without a subject key identifier (RFC 5280 4.2.1.2)")
	}
	// Key usage and basic constraints must agree (RFC 5280 4.2.1.3, 4.2.1.9).
	if c.KeyUsage != 0 || hasExt(ci, oidKU) {
		kcs := c.KeyUsage&x509.KeyUsageCertSign != 0
		if kcs && (!c.BasicConstraintsValid || !c.IsCA) {
			p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "keyCertSign without basic constraints cA=TRUE (RFC 5280 4.2.1.3)")
		}
		if c.BasicConstraintsValid && c.IsCA && !kcs {
			p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "basic constraints cA=TRUE without keyCertSign (RFC 5280 4.2.1.3)")
		}
	}
	if ci.nc != nil || ci.ncErr != nil {
		if !(c.BasicConstraintsValid && c.IsCA) {
			p.add(i, TrustInvalidNameConstraints, ReasonNameConstraints, "name constraints in a certificate that is not a CA (RFC 5280 4.2.1.10)")
		} else if !ci.ext[oidNC].Critical {
			p.add(i, TrustInvalidNameConstraints, ReasonNameConstraints, "name constraints not marked critical (RFC 5280 4.2.1.10)")
		}
		if ci.ncErr != nil {
			p.add(i, TrustInvalidNameConstraints, ReasonNameConstraints, "name constraints: %v", ci.ncErr)
		}
	}
}

func hasExt(ci *certInfo, oid string) bool { _, ok := ci.ext[oid]; return ok }

// checkIssuer applies the rules for an element that issued the one below it.
func (b *builder) checkIssuer(p *path, i int, c *x509.Certificate, chain []*x509.Certificate) {
	ci := b.certInfo(c)
	switch {
	case !c.BasicConstraintsValid:
		p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "issuer without basic constraints: not a CA")
	case !c.IsCA:
		p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "issuer with basic constraints cA=FALSE: not a CA")
	default:
		if !ci.ext[oidBC].Critical {
			p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "basic constraints of a CA not marked critical (RFC 5280 4.2.1.9)")
		}
		if c.MaxPathLen >= 0 && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
			below := 0
			for j := 1; j < i; j++ {
				if !isSelfIssued(chain[j]) {
					below++
				}
			}
			if below > c.MaxPathLen {
				p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "pathLenConstraint %d exceeded: %d intermediate CA certificates below", c.MaxPathLen, below)
			}
		}
	}
	if hasExt(ci, oidKU) && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		p.add(i, TrustInvalidBasicConstraints, ReasonBasicConstraints, "issuer key usage lacks keyCertSign")
	}
}

// checkUsages applies CryptoAPI's AND usage matching: each required EKU must
// be allowed by every element, explicitly or by an absent EKU extension on a
// CA. The AD CS Application Policies extension, when present, restricts the
// same way (guess, windows-trust.md §1). anyExtendedKeyUsage allows every
// usage on a CA, not on the leaf.
func (b *builder) checkUsages(p *path, chain []*x509.Certificate) {
	for _, u := range b.opts.Usages {
		for i, c := range chain {
			ci := b.certInfo(c)
			if ci.ekuPresent && len(ci.eku) > 0 && !oidAllowed(ci.eku, u, i > 0) {
				p.add(i, TrustIsNotValidForUsage, ReasonWrongUsage, "extended key usage (%s) does not allow %s", oidNames(ci.eku), oidName(u))
			}
			if ci.appPresent && !oidAllowed(ci.appPolicies, u, i > 0) {
				p.add(i, TrustIsNotValidForUsage, ReasonWrongUsage, "application policies (%s) do not allow %s", oidNames(ci.appPolicies), oidName(u))
			}
		}
	}
	if b.opts.KeyUsage != 0 {
		leaf := chain[0]
		if hasExt(b.certInfo(leaf), oidKU) && leaf.KeyUsage&b.opts.KeyUsage != b.opts.KeyUsage {
			p.add(0, TrustIsNotValidForUsage, ReasonWrongUsage, "key usage lacks a required bit (has 0x%x, needs 0x%x)", int(leaf.KeyUsage), int(b.opts.KeyUsage))
		}
	}
}

func oidAllowed(list []asn1.ObjectIdentifier, u asn1.ObjectIdentifier, ca bool) bool {
	for _, o := range list {
		if o.Equal(u) || ca && o.Equal(EKUAny) {
			return true
		}
	}
	return false
}

var oidShort = map[string]string{
	"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth", "1.3.6.1.5.5.7.3.3": "codeSigning",
	"1.3.6.1.5.5.7.3.4": "emailProtection", "1.3.6.1.5.5.7.3.8": "timeStamping", "1.3.6.1.5.5.7.3.9": "OCSPSigning",
	"2.5.29.37.0": "anyExtendedKeyUsage",
}

func oidName(o asn1.ObjectIdentifier) string {
	if s, ok := oidShort[o.String()]; ok {
		return s
	}
	return o.String()
}

func oidNames(l []asn1.ObjectIdentifier) string {
	s := make([]string, len(l))
	for i, o := range l {
		s[i] = oidName(o)
	}
	return strings.Join(s, ", ")
}

func extName(id string) string {
	switch id {
	case oidAKI:
		return "authority key identifier"
	case oidSKI:
		return "subject key identifier"
	case oidAIA:
		return "authority information access"
	}
	return id
}

// checkNameConstraints applies each CA's name constraints to every element
// below it, except self-issued intermediates (RFC 5280 6.1.4(b)); the
// violation is flagged on the element whose name violates.
func (b *builder) checkNameConstraints(p *path, chain []*x509.Certificate) {
	for i := 1; i < len(chain); i++ {
		nc := b.certInfo(chain[i]).nc
		if nc == nil {
			continue
		}
		for j := 0; j < i; j++ {
			if j > 0 && isSelfIssued(chain[j]) {
				continue
			}
			cj := chain[j]
			st, why := checkNameConstraints(nc, subjectNames(cj, b.certInfo(cj)))
			for _, w := range why {
				p.add(j, st|TrustInvalidNameConstraints, ReasonNameConstraints, "name constraints of %s: %s", displayName(chain[i]), w)
			}
		}
	}
}
