package profiles

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"sort"
	"time"

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

// Spec pairs a requirement with the statement it comes from.
type Spec struct {
	Cite lint.Citation `json:"citation"`
	Note string        `json:"note,omitempty"` // UNCONFIRMED judgements are said here
}

// KeyUsageSpec is the Key Usage a role needs.
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

// KeySpec is the key algorithms a role accepts.
type KeySpec struct {
	Spec
	Allowed []KeyType
	Default KeyType
}

// NameSpec is what the subject and SAN must hold.
type NameSpec struct {
	Spec
	Rule          NameRule
	AllowWildcard bool // "*.domain" as the leftmost label only
	MinDNSNames   int  // at least this many SAN dNSNames
}

// ValiditySpec is the default lifetime.
type ValiditySpec struct {
	Spec
	Default time.Duration
}

// RevocationSpec says which revocation pointers issuance bakes in.
type RevocationSpec struct {
	Spec
	CDP  bool // CRL distribution point of the issuer
	AIA  bool // caIssuers URL of the issuer certificate
	OCSP bool // OCSP responder URL
}

// ExtensionSpec is a custom extension a role carries.
type ExtensionSpec struct {
	OID      asn1.ObjectIdentifier
	Name     string
	Critical bool
	Cite     lint.Citation
}

// PFXSpec says whether a role's certificate goes out as a PFX and how.
type PFXSpec struct {
	Spec
	Needed        bool
	DefaultFormat string // "legacy" (3DES/SHA-1) or "modern" (AES-256/SHA-256)
}

// Profile is what one role's certificate must be.
type Profile struct {
	Role     Role
	Summary  string
	Template string // the AD CS template it corresponds to
	IsCA     bool
	// MaxPathLen of a CA; -1 means unlimited. Ignored for end entities.
	MaxPathLen int
	KeyUsage   KeyUsageSpec
	EKU        EKUSpec
	Keys       KeySpec
	Names      NameSpec
	Validity   ValiditySpec
	Revocation RevocationSpec
	Extensions []ExtensionSpec
	// OmitKeyIDs leaves out SKID and AKI, as real WPJ device certificates do.
	OmitKeyIDs bool
	PFX        PFXSpec
}

// AllowsKey reports whether the profile accepts key type k.
func (p *Profile) AllowsKey(k KeyType) bool { return slices.Contains(p.Keys.Allowed, k) }

// CheckKeyType returns an error naming the role and the allowed types when k
// is not allowed.
func (p *Profile) CheckKeyType(k KeyType) error {
	if !p.AllowsKey(k) {
		return fmt.Errorf("profile %s does not allow key type %s (allowed: %s; %s)",
			p.Role, k, JoinKeyTypes(p.Keys.Allowed), p.Keys.Cite)
	}
	return nil
}

// Apply sets on tpl what the profile decides: basic constraints, key usage
// and extended key usage. Names, keys, validity and URLs are the caller's.
func (p *Profile) Apply(tpl *x509.Certificate) error {
	tpl.BasicConstraintsValid = true
	tpl.IsCA = p.IsCA
	if p.IsCA {
		tpl.MaxPathLen = p.MaxPathLen
		tpl.MaxPathLenZero = p.MaxPathLen == 0
	}
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
	if !p.AllowsKey(p.Keys.Default) {
		panic("profiles: default key type not allowed for " + string(p.Role))
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
