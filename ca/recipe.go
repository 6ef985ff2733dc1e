package ca

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// Recipe is what cmgpki chooses to issue for a role, on top of the role's
// requirement (profiles.Profile): the default key, key usage bits beyond the
// required ones, the path length of a CA, the default validity, which
// revocation pointers to bake in, the key identifiers and the PFX. None of
// it judges a certificate: the certificate rules check the requirement
// only, so a certificate from another CA is never held to these choices.
type Recipe struct {
	Role profiles.Role
	// DefaultKey is the key generated when none is asked for; it must be
	// one the requirement accepts.
	DefaultKey profiles.KeyType
	// ExtraKeyUsage are bits issued beyond the requirement's (for example
	// digitalSignature on CAs, which sign OCSP responses themselves).
	ExtraKeyUsage x509.KeyUsage
	// ExtraKeyUsageWhy is the reason for ExtraKeyUsage.
	ExtraKeyUsageWhy profiles.Spec
	// MaxPathLen of a CA; -1 means unlimited. Ignored for end entities.
	MaxPathLen int
	// Validity is the default lifetime.
	Validity time.Duration
	// CDP, AIA and OCSP say which revocation pointers (built from the lab's
	// base URL by internal/layout) the certificate carries.
	//
	// WARNING: they are fixed at issue time; a certificate issued without a
	// pointer, or with one clients cannot reach, must be reissued.
	CDP, AIA, OCSP bool
	// OmitKeyIDs leaves out SKID and AKI, as real WPJ device certificates do.
	OmitKeyIDs bool
	PFX        PFXRecipe
	// Why explains the choices, with their sources.
	Why profiles.Spec
}

// PFXRecipe says whether a role's certificate goes out as a PFX and how.
type PFXRecipe struct {
	profiles.Spec
	Needed        bool
	DefaultFormat string // "legacy" (3DES/SHA-1) or "modern" (AES-256/SHA-256)
}

const (
	day  = 24 * time.Hour
	year = 365 * day
)

var (
	citeCDPBakedIn = lint.Cite(lint.SrcPlanCert, "Certificate revocation: the CDP is fixed at issue time; a client that cannot locate the CRL treats the chain as revoked")
	citeLegacyPFX  = lint.Cite(lint.SrcPFXCmd, "Export-PfxCertificate defaults to TripleDES_SHA1; Server 2016 and older cannot read AES-256 PFX")
	citeModernPFX  = lint.Cite(lint.SrcGoP12, "Modern2023: PBES2/AES-256-CBC, SHA-256 MAC, imports on Windows 10 1709 / Server 2019 and later")
	caDigSig       = profiles.Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 a CA signs OCSP responses itself unless it delegates: digitalSignature on the CA")}
	allPointers    = profiles.Spec{Cite: citeCDPBakedIn}
	modernPFX      = PFXRecipe{Spec: profiles.Spec{Cite: citeModernPFX}, Needed: true, DefaultFormat: "modern"}
)

var recipes = map[profiles.Role]*Recipe{
	profiles.RootCA: {
		DefaultKey: profiles.RSA2048, ExtraKeyUsage: x509.KeyUsageDigitalSignature, ExtraKeyUsageWhy: caDigSig, MaxPathLen: -1, Validity: 10 * year,
	},
	profiles.IssuingCA: {
		DefaultKey: profiles.RSA2048, ExtraKeyUsage: x509.KeyUsageDigitalSignature, ExtraKeyUsageWhy: caDigSig, MaxPathLen: 0, Validity: 5 * year,
		CDP: true, AIA: true, OCSP: true, Why: allPointers,
	},
	profiles.CMGServer: {
		DefaultKey: profiles.RSA2048, Validity: year, CDP: true, AIA: true, OCSP: true, Why: allPointers,
		PFX: PFXRecipe{Spec: profiles.Spec{Cite: citeLegacyPFX, Note: "the CMG wizard host's PFX import API is UNCONFIRMED; 3DES imports everywhere"}, Needed: true, DefaultFormat: "legacy"},
	},
	profiles.MPHTTPS: {
		DefaultKey: profiles.RSA2048, Validity: year, CDP: true, AIA: true, OCSP: true, Why: allPointers, PFX: modernPFX,
	},
	profiles.CMGConnectionPoint: {
		DefaultKey: profiles.RSA2048, ExtraKeyUsage: x509.KeyUsageKeyEncipherment, Validity: year,
		ExtraKeyUsageWhy: profiles.Spec{Cite: lint.Cite(lint.SrcPKIReq, "Client certificates: Workstation Authentication template, Key Usage Digital Signature and Key Encipherment")},
		CDP:              true, AIA: true, OCSP: true, Why: allPointers, PFX: modernPFX,
	},
	profiles.PKIClient: {
		DefaultKey: profiles.RSA2048, Validity: year, CDP: true, AIA: true, OCSP: true, Why: allPointers, PFX: modernPFX,
	},
	profiles.WPJCA: {
		DefaultKey: profiles.RSA2048, ExtraKeyUsage: x509.KeyUsageDigitalSignature, ExtraKeyUsageWhy: caDigSig, MaxPathLen: 0, Validity: 20 * year,
		Why: profiles.Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no CDP, AIA, SKI or AKI")},
	},
	profiles.WPJDevice: {
		DefaultKey: profiles.RSA2048, Validity: 10 * year, OmitKeyIDs: true, PFX: modernPFX,
		Why: profiles.Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: about 10 years, no CDP, AIA, SKI or AKI"),
			Note: "real WPJ certificates carry no revocation pointers, so revocation checks never apply"},
	},
	profiles.OCSPSigner: {
		DefaultKey: profiles.RSA2048, Validity: 90 * day,
		Why: profiles.Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 a nocheck responder certificate should be short-lived")},
	},
}

func init() {
	for r, rc := range recipes {
		rc.Role = r
	}
}

// RecipeFor returns cmgpki's issuance recipe for a role.
func RecipeFor(r profiles.Role) (*Recipe, error) {
	rc, ok := recipes[r]
	if !ok {
		return nil, fmt.Errorf("ca: no issuance recipe for role %q", r)
	}
	return rc, nil
}

// MustRecipe returns the recipe of a built-in role; it panics otherwise.
func MustRecipe(r profiles.Role) *Recipe {
	rc, err := RecipeFor(r)
	if err != nil {
		panic(err)
	}
	return rc
}

// apply sets on tpl what the recipe decides, after the requirement's
// Profile.Apply: extra key usage bits, the path length, the revocation
// pointers (from u) and the key identifiers.
func (rc *Recipe) apply(tpl *x509.Certificate, p *profiles.Profile, u *layout.URLs) {
	if !p.KeyUsage.Omit {
		tpl.KeyUsage |= rc.ExtraKeyUsage
	}
	if p.IsCA {
		tpl.MaxPathLen = rc.MaxPathLen
		tpl.MaxPathLenZero = rc.MaxPathLen == 0
	}
	if u != nil {
		if rc.CDP {
			tpl.CRLDistributionPoints = []string{u.CRL}
		}
		if rc.AIA {
			tpl.IssuingCertificateURL = []string{u.CACert}
		}
		if rc.OCSP {
			tpl.OCSPServer = []string{u.OCSP}
		}
	}
	if rc.OmitKeyIDs {
		tpl.SubjectKeyId = []byte{} // non-nil: x509util leaves it out
	}
}

// recipe returns the request's recipe: its own, or the role's.
func (req Request) recipe() (*Recipe, error) {
	if req.Recipe != nil {
		return req.Recipe, nil
	}
	return RecipeFor(req.Profile.Role)
}
