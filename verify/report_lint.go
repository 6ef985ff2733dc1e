package verify

import (
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// This file is the only contact of the reports with the rule framework:
// lintFindings runs the certificate rules of p on cert (with its built
// chain, leaf first) at env and returns the results that are findings:
// NA, NE and Pass are left out. A rule that could not run keeps the level
// Fatal: the check is incomplete (the verify commands exit 3).
func lintFindings(subj profiles.Subject, env lint.Env) []Finding {
	rep := profiles.LintSubject(subj, env)
	var out []Finding
	for _, r := range rep.Results {
		if r.Status <= lint.Pass {
			continue
		}
		out = append(out, Finding{ID: r.Rule, Level: r.Status, Message: r.Details, Windows: winFromLint(r.WinError),
			Fix: r.Fix, Source: r.Citation.String()})
	}
	return out
}

// knownWin are the Windows errors whose WinHTTP mapping is known, by name.
var knownWin = func() map[string]WindowsError {
	m := map[string]WindowsError{}
	for _, w := range []WindowsError{WinUntrustedRoot, WinChaining, WinRevocationOffline, WinRevoked, WinExpired,
		WinNameMismatch, WinWrongUsage, WinBadSignature, WinBasicConstraints, WinPathLen, WinInvalidName, WinCritical, WinMalformed} {
		m[w.Name] = w
	}
	return m
}()

// winFromLint turns a rule's Windows error into a WindowsError (nil when
// none applies), with the WinHTTP name where this package knows it.
func winFromLint(e lint.WinError) *WindowsError {
	if e.IsZero() {
		return nil
	}
	w := WindowsError{Name: e.Name, HRESULT: HResult(e.HRESULT), WinHTTP: e.WinHTTP}
	if k, ok := knownWin[e.Name]; ok && (k.WinHTTP == e.WinHTTP || e.WinHTTP == 0) {
		w = k
	}
	return &w
}

// LintWinError is the lint form of w, for renderers of lint results.
func LintWinError(w *WindowsError) lint.WinError {
	if w == nil {
		return lint.WinError{}
	}
	return lint.WinError{Name: w.Name, HRESULT: uint32(w.HRESULT), WinHTTP: w.WinHTTP}
}
