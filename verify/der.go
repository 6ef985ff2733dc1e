package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs this package understands. A critical extension outside this
// set fails the element (CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT).
var (
	oidSKI              = "2.5.29.14"
	oidKU               = "2.5.29.15"
	oidSAN              = "2.5.29.17"
	oidIAN              = "2.5.29.18"
	oidBC               = "2.5.29.19"
	oidCRLNumber        = "2.5.29.20"
	oidCRLReason        = "2.5.29.21"
	oidInvalidityDate   = "2.5.29.24"
	oidDeltaCRL         = "2.5.29.27"
	oidIDP              = "2.5.29.28"
	oidCertIssuer       = "2.5.29.29"
	oidNC               = "2.5.29.30"
	oidCDP              = "2.5.29.31"
	oidPolicies         = "2.5.29.32"
	oidPolicyMappings   = "2.5.29.33"
	oidAKI              = "2.5.29.35"
	oidPolicyConstr     = "2.5.29.36"
	oidEKU              = "2.5.29.37"
	oidFreshest         = "2.5.29.46"
	oidInhibitAny       = "2.5.29.54"
	oidAIA              = "1.3.6.1.5.5.7.1.1"
	oidSIA              = "1.3.6.1.5.5.7.1.11"
	oidMSAppPolicies    = "1.3.6.1.4.1.311.21.10"
	oidMSTemplate       = "1.3.6.1.4.1.311.21.7"
	oidMSTemplateName   = "1.3.6.1.4.1.311.20.2"
	oidMSCAVersion      = "1.3.6.1.4.1.311.21.1"
	oidMSPrevHash       = "1.3.6.1.4.1.311.21.2"
	oidSCTList          = "1.3.6.1.4.1.11129.2.4.2"
	oidSubjectDirAttrs  = "2.5.29.9"
	oidEmailAddressAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

var knownCertExt = map[string]bool{
	oidSKI: true, oidKU: true, oidSAN: true, oidIAN: true, oidBC: true, oidNC: true, oidCDP: true,
	oidPolicies: true, oidPolicyMappings: true, oidAKI: true, oidPolicyConstr: true, oidEKU: true,
	oidFreshest: true, oidInhibitAny: true, oidAIA: true, oidSIA: true, oidMSAppPolicies: true,
	oidMSTemplate: true, oidMSTemplateName: true, oidMSCAVersion: true, oidMSPrevHash: true,
	oidSCTList: true, oidSubjectDirAttrs: true,
}

// generalName is one GeneralName: its context tag number and its contents
// (for directoryName [4], the DER of the Name).
type generalName struct {
	tag  int
	data []byte
}

// GeneralName tags.
const (
	gnOtherName = 0
	gnRFC822    = 1
	gnDNS       = 2
	gnDirectory = 4
	gnURI       = 6
	gnIP        = 7
)

// certInfo is what Chain reads from a certificate beyond crypto/x509.
type certInfo struct {
	ext          map[string]pkix.Extension
	ekuPresent   bool
	eku          []asn1.ObjectIdentifier
	appPresent   bool
	appPolicies  []asn1.ObjectIdentifier
	sanPresent   bool
	san          []generalName
	sanErr       error
	nc           *nameConstraints
	ncErr        error
	akiKeyIDOnly bool
	emptySubject bool
}

func parseCertInfo(c *x509.Certificate) *certInfo {
	ci := &certInfo{ext: map[string]pkix.Extension{}}
	for _, e := range c.Extensions {
		ci.ext[e.Id.String()] = e
	}
	if e, ok := ci.ext[oidEKU]; ok {
		ci.ekuPresent = true
		if _, err := asn1.Unmarshal(e.Value, &ci.eku); err != nil {
			ci.eku = nil
		}
	}
	if e, ok := ci.ext[oidMSAppPolicies]; ok {
		ci.appPresent = true
		var pols []struct {
			ID   asn1.ObjectIdentifier
			Rest asn1.RawValue `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(e.Value, &pols); err == nil {
			for _, p := range pols {
				ci.appPolicies = append(ci.appPolicies, p.ID)
			}
		}
	}
	if e, ok := ci.ext[oidSAN]; ok {
		ci.sanPresent = true
		ci.san, ci.sanErr = parseGeneralNames(e.Value)
	}
	if e, ok := ci.ext[oidNC]; ok {
		ci.nc, ci.ncErr = parseNameConstraints(e.Value)
	}
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(c.RawSubject, &rdn); err == nil && len(rest) == 0 {
		ci.emptySubject = len(rdn) == 0
	}
	return ci
}

// parseGeneralNames reads a GeneralNames SEQUENCE.
func parseGeneralNames(der []byte) ([]generalName, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("malformed GeneralNames")
	}
	var out []generalName
	for !seq.Empty() {
		gn, err := readGeneralName(&seq)
		if err != nil {
			return nil, err
		}
		out = append(out, gn)
	}
	return out, nil
}

func readGeneralName(s *cryptobyte.String) (generalName, error) {
	var v cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&v, &tag) {
		return generalName{}, errors.New("malformed GeneralName")
	}
	if tag&0xc0 != 0x80 { // context-specific
		return generalName{}, fmt.Errorf("GeneralName with tag 0x%x", uint8(tag))
	}
	n := int(tag & 0x1f)
	return generalName{tag: n, data: []byte(v)}, nil
}

// nameConstraints is a parsed NameConstraints extension.
type nameConstraints struct {
	permitted, excluded []generalName
}

// parseNameConstraints reads NameConstraints (RFC 5280 4.2.1.10) and rejects
// what the RFC forbids: an empty extension, empty subtree lists, minimum or
// maximum other than the defaults, and malformed bases.
func parseNameConstraints(der []byte) (*nameConstraints, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("malformed NameConstraints")
	}
	var p, e cryptobyte.String
	var hasP, hasE bool
	if !seq.ReadOptionalASN1(&p, &hasP, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!seq.ReadOptionalASN1(&e, &hasE, cbasn1.Tag(1).ContextSpecific().Constructed()) || !seq.Empty() {
		return nil, errors.New("malformed NameConstraints")
	}
	if !hasP && !hasE {
		return nil, errors.New("NameConstraints has neither permitted nor excluded subtrees")
	}
	nc := &nameConstraints{}
	var err error
	if hasP {
		if nc.permitted, err = parseSubtrees(p); err != nil {
			return nil, fmt.Errorf("permitted subtrees: %w", err)
		}
	}
	if hasE {
		if nc.excluded, err = parseSubtrees(e); err != nil {
			return nil, fmt.Errorf("excluded subtrees: %w", err)
		}
	}
	return nc, nil
}

func parseSubtrees(s cryptobyte.String) ([]generalName, error) {
	if s.Empty() {
		return nil, errors.New("empty GeneralSubtrees")
	}
	var out []generalName
	for !s.Empty() {
		var sub cryptobyte.String
		if !s.ReadASN1(&sub, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed GeneralSubtree")
		}
		gn, err := readGeneralName(&sub)
		if err != nil {
			return nil, err
		}
		if !sub.Empty() {
			// minimum must be 0 (the default, hence absent) and maximum absent.
			return nil, errors.New("GeneralSubtree with minimum or maximum")
		}
		if err := validConstraint(gn); err != nil {
			return nil, err
		}
		out = append(out, gn)
	}
	return out, nil
}

// akiFields reports which fields an AuthorityKeyIdentifier carries.
func akiFields(der []byte) (keyID, issuer, serial bool, err error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return false, false, false, errors.New("malformed AuthorityKeyIdentifier")
	}
	var x cryptobyte.String
	if !seq.ReadOptionalASN1(&x, &keyID, cbasn1.Tag(0).ContextSpecific()) ||
		!seq.ReadOptionalASN1(&x, &issuer, cbasn1.Tag(1).ContextSpecific().Constructed()) ||
		!seq.ReadOptionalASN1(&x, &serial, cbasn1.Tag(2).ContextSpecific()) || !seq.Empty() {
		return false, false, false, errors.New("malformed AuthorityKeyIdentifier")
	}
	return keyID, issuer, serial, nil
}
