package verify

import (
	"crypto/x509"
	"regexp"
	"strconv"

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// This file is the only contact of the reports with the rule framework:
// lintFindings runs the profile's rules and turns their results into
// findings, and winFromLint turns a rule's Windows error into a
// WindowsError.

// lintFindings runs the certificate rules of p on cert (with its built
// chain, leaf first) at env and returns the results that are findings:
// NA, NE and Pass are left out; a rule that could not run (Fatal) is an
// error.
func lintFindings(cert *x509.Certificate, p *profiles.Profile, chain []*x509.Certificate, env lint.Env) []Finding {
	_ = chain // the rules see the chain once profiles.Subject carries it
	rep := profiles.Lint(cert, p, env)
	var out []Finding
	for _, r := range rep.Results {
		if r.Status <= lint.Pass {
			continue
		}
		lvl := r.Status
		if lvl == lint.Fatal {
			lvl = lint.Error
		}
		out = append(out, Finding{ID: r.Rule, Level: lvl, Message: r.Details, Windows: winFromLint(r.WinError),
			Fix: r.Fix, Source: r.Citation.String()})
	}
	return out
}

var winErrRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]+)(?: (0x[0-9A-Fa-f]{8}))?`)

// knownWin are the Windows errors whose WinHTTP mapping is known, by name.
var knownWin = func() map[string]WindowsError {
	m := map[string]WindowsError{}
	for _, w := range []WindowsError{WinUntrustedRoot, WinChaining, WinRevocationOffline, WinRevoked, WinExpired,
		WinNameMismatch, WinWrongUsage, WinBadSignature, WinBasicConstraints, WinPathLen, WinInvalidName, WinCritical, WinMalformed} {
		m[w.Name] = w
	}
	return m
}()

// winFromLint reads a rule's Windows error ("CERT_E_WRONG_USAGE 0x800B0110
// (...)"): its first name and HRESULT.
func winFromLint(s string) *WindowsError {
	m := winErrRE.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	if w, ok := knownWin[m[1]]; ok {
		return &w
	}
	w := WindowsError{Name: m[1]}
	if m[2] != "" {
		h, _ := strconv.ParseUint(m[2][2:], 16, 32)
		w.HRESULT = HResult(h)
	}
	return &w
}
