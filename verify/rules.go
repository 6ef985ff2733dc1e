package verify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// The deployment-level rules of this package, one per rule_*.go file, over
// four kinds of subject besides the certificate rules of package profiles:
//   - InputSubject: the file a certificate came in (a PFX: its key, its
//     password, its encryption; a key that must match);
//   - ChainSubject: a built chain (complete, or complete only through AIA);
//   - RenewalSubject: a renewed CMG certificate and the one it replaces;
//   - CMGTrustedSubject: the trusted root and intermediate certificates
//     uploaded to the CMG and the client chains they must cover.
//
// Each registry is unexported; InputRules, ChainRules, RenewalRules and
// CMGTrustedRules return copies, and Rules lists the metadata of all of
// them. None of these rules has roles: the subject kind decides where a
// rule applies.
var (
	inputRules      = lint.NewRegistry[InputSubject](nil)
	chainRules      = lint.NewRegistry[ChainSubject](nil)
	renewalRules    = lint.NewRegistry[RenewalSubject](nil)
	cmgTrustedRules = lint.NewRegistry[CMGTrustedSubject](nil)
)

// InputRules returns a copy of the input (file) rule registry.
func InputRules() *lint.Registry[InputSubject] { return inputRules.Copy() }

// ChainRules returns a copy of the chain rule registry.
func ChainRules() *lint.Registry[ChainSubject] { return chainRules.Copy() }

// RenewalRules returns a copy of the renewal rule registry.
func RenewalRules() *lint.Registry[RenewalSubject] { return renewalRules.Copy() }

// CMGTrustedRules returns a copy of the CMG trusted certificates rule
// registry.
func CMGTrustedRules() *lint.Registry[CMGTrustedSubject] { return cmgTrustedRules.Copy() }

// RuleSet names one registry of this package and its rules' metadata.
type RuleSet struct {
	// Subject is input, chain, renewal or cmg-trusted.
	Subject string
	Rules   []lint.Meta
}

// RuleSets lists this package's registries in a fixed order.
func RuleSets() []RuleSet {
	return []RuleSet{
		{"input", inputRules.Rules()},
		{"chain", chainRules.Rules()},
		{"renewal", renewalRules.Rules()},
		{"cmg-trusted", cmgTrustedRules.Rules()},
	}
}

// Rules returns the metadata of every rule of this package, sorted by name.
func Rules() []lint.Meta {
	var out []lint.Meta
	for _, s := range RuleSets() {
		out = append(out, s.Rules...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// InputSubject is one input file as read, for the input rules.
type InputSubject struct {
	// Name is the file name, for messages.
	Name string
	// Bundle is what the file holds; nil when it could not be opened (Err).
	Bundle *certio.Bundle
	// Err is why the file could not be opened: certio.ErrWrongPassword or
	// certio.ErrNoPrivateKey are findings; nil when Bundle is set.
	Err error
	// PFX is the protection of a PKCS#12 file, read without the password,
	// so that it is known even when the password is wrong; nil otherwise.
	PFX *certio.PFXInfo
	// Key is a private key given apart from the file (--key), and KeyFile
	// its name; nil: the bundle's own key, if any.
	Key     crypto.Signer
	KeyFile string
	// Leaf is the certificate the key must belong to; nil means the
	// certificate CandidateFromBundle chooses.
	Leaf *x509.Certificate
}

// ReadInput reads path with certio.ReadBundle and password. A wrong
// password or a PFX without a private key is not an error but the
// subject's Err, for e_pfx_wrong_password and e_pfx_no_private_key; other
// read and parse failures are returned (unreadable input).
func ReadInput(path string, password []byte) (InputSubject, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return InputSubject{}, err
	}
	s := InputSubject{Name: filepath.Base(path)}
	if info, err := certio.ParsePFXInfo(data); err == nil {
		s.PFX = info
	}
	b, err := certio.ParseBundle(s.Name, data, certio.ReadOptions{Password: password})
	if err != nil {
		if s.PFX != nil && (errors.Is(err, certio.ErrWrongPassword) || errors.Is(err, certio.ErrNoPrivateKey)) {
			s.Err = err
			return s, nil
		}
		return InputSubject{}, err
	}
	s.Bundle = b
	return s, nil
}

// leaf is the certificate judged: Leaf, or the bundle's candidate.
func (s InputSubject) leaf() *x509.Certificate {
	if s.Leaf != nil {
		return s.Leaf
	}
	if s.Bundle != nil && len(s.Bundle.Certs) > 0 {
		return CandidateFromBundle(s.Bundle).Cert
	}
	return nil
}

func (s InputSubject) isPFX() bool {
	return s.PFX != nil || s.Bundle != nil && s.Bundle.Format == certio.FormatPKCS12
}

// CheckInput runs the input rules on s at env and returns the findings
// (results above Pass).
func CheckInput(s InputSubject, env lint.Env) []Finding {
	return findingsOf(inputRules.Run(s, env))
}

// ChainSubject is a chain as Chain built it.
type ChainSubject struct {
	Result *ChainResult
}

// CheckChainRules runs the chain rules on a chain result and returns the
// findings.
func CheckChainRules(r *ChainResult, env lint.Env) []Finding {
	if r == nil {
		return nil
	}
	return findingsOf(chainRules.Run(ChainSubject{Result: r}, env))
}

// RenewalSubject is a renewed CMG server certificate (New) and the one it
// replaces (Old).
type RenewalSubject struct {
	Old, New *x509.Certificate
}

// CompareRenewal judges new as the renewal of the CMG server authentication
// certificate old, as the CMG's Properties > Settings > Certificate file
// does ([MOD]; failures F08, F09), and returns the findings. It does not
// judge new on its own: run the cmg-server profile rules for that.
func CompareRenewal(old, new *x509.Certificate, env lint.Env) []Finding {
	return findingsOf(renewalRules.Run(RenewalSubject{Old: old, New: new}, env))
}

// CMGTrustedSubject is the set of trusted CA certificates uploaded to the
// CMG (Properties > Certificates) and the chains of the PKI clients that
// authenticate to it, each leaf first and its root last, as Chain builds
// them.
type CMGTrustedSubject struct {
	Trusted      []*x509.Certificate
	ClientChains [][]*x509.Certificate
}

// CheckCMGTrusted judges the trusted CA certificates of a CMG against the
// client chains they must cover ([AUTH], [SETUP]; failure F16) and returns
// the findings. env.CMVersion selects the version limits (1902 and older:
// at most 2 roots and 4 intermediates).
func CheckCMGTrusted(trusted []*x509.Certificate, clientChains [][]*x509.Certificate, env lint.Env) []Finding {
	return findingsOf(cmgTrustedRules.Run(CMGTrustedSubject{Trusted: trusted, ClientChains: clientChains}, env))
}

// findingsOf turns the results above Pass into findings.
func findingsOf(rep lint.Report) []Finding {
	var out []Finding
	for _, r := range rep.Results {
		if r.Status <= lint.Pass {
			continue
		}
		f := Finding{ID: r.Rule, Level: r.Status, Message: r.Details, Fix: r.Fix, Source: r.Citation.String()}
		if !r.WinError.IsZero() {
			w := windowsOf(r.WinError)
			f.Windows = &w
		}
		out = append(out, f)
	}
	return out
}

// windowsOf maps a rule's Windows error to this package's WindowsError,
// with the WinHTTP name where it is known.
func windowsOf(e lint.WinError) WindowsError {
	for _, w := range []WindowsError{WinUntrustedRoot, WinChaining, WinRevocationOffline, WinRevoked, WinExpired,
		WinNameMismatch, WinWrongUsage, WinBadSignature, WinBasicConstraints} {
		if w.Name == e.Name {
			return w
		}
	}
	return WindowsError{Name: e.Name, HRESULT: HResult(e.HRESULT), WinHTTP: e.WinHTTP}
}
