package verify

import (
	"crypto/x509"
	"strings"
	"time"

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

// mergeDuplicates drops the finding of a pair that reports one problem of
// the leaf twice, keeping the one that says more:
//   - e_not_valid_at (the validity rule) when the chain reports the leaf as
//     chain_expired or chain_not_yet_valid: the chain finding carries the
//     Windows error;
//   - sha1_signature (the chain's warning that Windows accepts SHA-1 under
//     an enterprise root) about the leaf when e_signature_not_sha2 reports
//     it: SHA-1 is a ConfigMgr requirement, not a chain failure
//     (windows-trust.md §1); a SHA-1 CA of the chain keeps its warning.
func mergeDuplicates(fs []Finding, leaf *x509.Certificate, at time.Time) []Finding {
	if leaf == nil {
		return fs
	}
	has := map[string]bool{}
	for _, f := range fs {
		has[f.ID] = true
	}
	leafTime := !at.IsZero() && (at.Before(leaf.NotBefore) || at.After(leaf.NotAfter))
	dropValidity := leafTime && (has["chain_expired"] || has["chain_not_yet_valid"])
	leafName := displayName(leaf) + " "
	var out []Finding
	for _, f := range fs {
		switch {
		case dropValidity && f.ID == "e_not_valid_at":
			continue
		case has["e_signature_not_sha2"] && f.ID == "sha1_signature" && strings.HasPrefix(f.Message, leafName):
			continue
		}
		out = append(out, f)
	}
	return out
}
