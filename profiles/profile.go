package profiles

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"sort"

	"github.com/cmgpki/cmgpki/lint"
)

// Role is the name of a certificate role; each role has exactly one Profile.
type Role string

// The roles.
const (
	RootCA             Role = "root-ca"
	IssuingCA          Role = "issuing-ca"
	CMGServer          Role = "cmg-server"
	MPHTTPS            Role = "mp-https"
	CMGConnectionPoint Role = "cmg-connection-point"
	PKIClient          Role = "pki-client"
	WPJCA              Role = "wpj-ca"
	WPJDevice          Role = "wpj-device"
	OCSPSigner         Role = "ocsp-signer"
)

// NameRule says what a certificate's names must be.
type NameRule int

// The name rules.
const (
	NamesCAOnly   NameRule = iota // a CN, no SAN (CA certificates)
	NamesFQDN                     // CN is an FQDN and every DNS name is in the SAN
	NamesGUID                     // CN is a device GUID, no SAN (Entra WPJ)
	NamesFreeform                 // a CN, no SAN required
)

func (n NameRule) String() string {
	return [...]string{"CN only, no SAN", "CN = FQDN, FQDNs in SAN dNSName", "CN = device GUID, no SAN", "CN required"}[n]
}

// Confidence says how firmly a requirement is stated.
type Confidence int

// The confidences.
const (
	// Confirmed: a cited Microsoft (or RFC) statement says so.
	Confirmed Confidence = iota
	// Unconfirmed: Microsoft does not state it; it is inferred (from a
	// template default, an example or field reports). A failure against it
	// is at most a warning.
	Unconfirmed
)

func (c Confidence) String() string {
	if c == Unconfirmed {
		return "UNCONFIRMED"
	}
	return "confirmed"
}

// MarshalText writes "confirmed" or "UNCONFIRMED".
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Spec pairs a requirement with the statement it comes from and how firmly
// that statement makes it.
type Spec struct {
	Cite       lint.Citation `json:"citation"`
	Confidence Confidence    `json:"confidence"`
	Note       string        `json:"note,omitempty"` // why it is UNCONFIRMED, or what else to know
}

// Unconfirmed reports whether the requirement is UNCONFIRMED.
func (s Spec) Unconfirmed() bool { return s.Confidence == Unconfirmed }

// KeyUsageSpec is the Key Usage a role's requirement cites. Bits an issuer
// adds beyond it are allowed.
type KeyUsageSpec struct {
	Spec
	Required x509.KeyUsage // bits that must be set; 0 with Omit means no extension
	Omit     bool          // the real certificate carries no Key Usage (WPJ)
}

// EKUSpec is the Extended Key Usage a role needs.
type EKUSpec struct {
	Spec
	Required []x509.ExtKeyUsage
	Critical bool // WPJ device certificates mark EKU critical
}

// KeySpec is the public keys Windows and ConfigMgr accept for a role: what
// the citation allows, not what cmgpki can generate (ca's recipe decides
// that, within this).
type KeySpec struct {
	Spec
	RSASizes []int    // accepted RSA modulus sizes; nil: any size of at least RSAMin
	RSAMin   int      // with RSASizes nil, the smallest accepted RSA modulus; 0: no RSA
	Curves   []string // accepted ECDSA curves ("P-256", "P-384", "P-521"); nil: no ECDSA
}

// NameSpec is what the subject and SAN must hold.
type NameSpec struct {
	Spec
	Rule          NameRule
	AllowWildcard bool // "*.domain" as the leftmost label only
	MinDNSNames   int  // at least this many SAN dNSNames
}

// RevocationSpec says whether clients check the revocation of a role's
// certificates in the usual ConfigMgr scenario. Which pointers a
// certificate carries is its CA's choice (ca's recipe for cmgpki's own);
// a checked role without any is a warning, never an error.
type RevocationSpec struct {
	Spec
	Checked bool
}

// ExtensionSpec is a custom extension a role carries.
type ExtensionSpec struct {
	OID      asn1.ObjectIdentifier
	Name     string
	Critical bool
	Cite     lint.Citation
}

// Profile is a role's requirement: what Windows and ConfigMgr demand of any
// certificate in that role, whoever issued it, each part with its citation
// and confidence. What cmgpki chooses to issue (validity, revocation
// pointers, PFX format, default key, extra key usage bits) is not here: it
// is the issuance recipe of package ca.
type Profile struct {
	Role     Role
	Summary  string
	Template string // the AD CS template it corresponds to
	IsCA     bool
	KeyUsage KeyUsageSpec
	EKU      EKUSpec
	Keys     KeySpec
	Names    NameSpec
	// Revocation says whether the role is revocation-checked.
	Revocation RevocationSpec
	// Extensions the role's certificates carry (WPJ device identity,
	// id-pkix-ocsp-nocheck), checked by their rules.
	Extensions []ExtensionSpec
}

// AllowsKey reports whether the requirement accepts a key of type k.
func (p *Profile) AllowsKey(k KeyType) bool { return p.Keys.AcceptsType(k) }

// AllowedKeyTypes lists the key types cmgpki can generate that the
// requirement accepts.
func (p *Profile) AllowedKeyTypes() []KeyType {
	var out []KeyType
	for _, k := range KeyTypes {
		if p.AllowsKey(k) {
			out = append(out, k)
		}
	}
	return out
}

// CheckKeyType returns an error naming the role and the allowed types when k
// is not allowed.
func (p *Profile) CheckKeyType(k KeyType) error {
	if !p.AllowsKey(k) {
		return fmt.Errorf("profile %s does not allow key type %s (allowed: %s; %s)",
			p.Role, k, JoinKeyTypes(p.AllowedKeyTypes()), p.Keys.Cite)
	}
	return nil
}

// Apply sets on tpl what the requirement decides: basic constraints (cA),
// the required key usage bits and the extended key usage. Names, keys,
// validity, path length, extra key usage bits and URLs are the issuer's.
func (p *Profile) Apply(tpl *x509.Certificate) error {
	tpl.BasicConstraintsValid = true
	tpl.IsCA = p.IsCA
	tpl.KeyUsage = p.KeyUsage.Required
	if p.EKU.Critical {
		// crypto/x509 always writes EKU non-critical; an EKU in
		// ExtraExtensions replaces the one it would build.
		ext, err := marshalEKU(p.EKU.Required, true)
		if err != nil {
			return fmt.Errorf("profiles: %s: %w", p.Role, err)
		}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, ext)
		tpl.ExtKeyUsage = nil
	} else {
		tpl.ExtKeyUsage = slices.Clone(p.EKU.Required)
	}
	return nil
}

var registry = map[Role]*Profile{}

func define(p *Profile) {
	if _, dup := registry[p.Role]; dup {
		panic("profiles: duplicate role " + string(p.Role))
	}
	if len(p.AllowedKeyTypes()) == 0 {
		panic("profiles: no generatable key type allowed for " + string(p.Role))
	}
	registry[p.Role] = p
}

// Get returns the profile of a role.
func Get(name string) (*Profile, error) {
	p, ok := registry[Role(name)]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (want one of %v)", name, Names())
	}
	return p, nil
}

// MustGet returns the profile of a built-in role; it panics otherwise.
func MustGet(r Role) *Profile {
	p, err := Get(string(r))
	if err != nil {
		panic(err)
	}
	return p
}

// Names lists the profile names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for r := range registry {
		out = append(out, string(r))
	}
	sort.Strings(out)
	return out
}

// All returns every profile sorted by name.
func All() []*Profile {
	out := make([]*Profile, 0, len(registry))
	for _, n := range Names() {
		out = append(out, registry[Role(n)])
	}
	return out
}
