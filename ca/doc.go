// Package ca owns keys, templates and signing for the lab CAs and the role
// certificates, and writes the lab directory (manifest.json, PEM, DER, PFX).
//
// Issue builds a template from a profile, lints it with the role's rules on a
// certificate signed by a throwaway key (as boulder does), and only then
// signs with the real key through smallstep's CAS interface (cas/softcas), so
// an existing step-ca or another CAS can replace local keys later. What the
// profile forbids is never signed: Issue returns a *LintError instead.
//
// ca never imports crl or verify; it reports what it issues through the
// Recorder it is handed.
package ca
