// Package ca owns keys, templates and signing for the lab CAs and the role
// certificates, and writes the lab directory through package lab
// (manifest.json, PEM, DER, PFX).
//
// Issue builds a template from the role's requirement (profiles.Profile.Apply)
// and cmgpki's issuance recipe (Recipe: default key, extra key usage, path
// length, validity, CDP/AIA/OCSP pointers, key identifiers, PFX), lints it
// with the role's rules on a certificate signed by a throwaway key (as
// boulder does), and only then signs with the real key through smallstep's
// CAS interface (cas/softcas), so an existing step-ca or another CAS can
// replace local keys later. What the requirement forbids is never signed:
// Issue returns a *LintError instead. The recipe is never used to judge a
// certificate.
//
// ca never imports crl or verify; it reports what it issues through the
// Recorder it is handed.
package ca
