package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// Subject is what certificate rules check: a certificate, the role it is
// meant to fill and, when one was built, its chain. The evaluation time is
// lint.Env.At.
type Subject struct {
	Cert    *x509.Certificate
	Profile *Profile
	// Chain is the built chain, leaf (Cert) first and the root last; nil
	// when none was built (at issuance, or a certificate checked alone).
	Chain []*x509.Certificate
	// ExpectedNames are the host names the certificate must serve (a site
	// system's intranet and internet FQDNs, given with --name); nil checks
	// only that some FQDN is present.
	ExpectedNames []string
	// ComputerName is the client's computer name for a client certificate
	// (--computer); empty skips that rule.
	ComputerName string
}

var certRules = lint.NewRegistry(func(s Subject) string { return string(s.Profile.Role) })

// Rules returns a copy of the certificate rule registry.
func Rules() *lint.Registry[Subject] { return certRules.Copy() }

// Lint runs every certificate rule on cert as a certificate of role p.
func Lint(cert *x509.Certificate, p *Profile, env lint.Env) lint.Report {
	return certRules.Run(Subject{Cert: cert, Profile: p}, env)
}

// LintSubject runs every certificate rule on s.
func LintSubject(s Subject, env lint.Env) lint.Report { return certRules.Run(s, env) }

func rolesOf(rs ...Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

var (
	caRoles   = []Role{RootCA, IssuingCA, WPJCA}
	leafRoles = []Role{CMGServer, MPHTTPS, CMGConnectionPoint, PKIClient, WPJDevice, OCSPSigner}
)
