// Package profiles holds each CMG role's requirement: what Windows and
// ConfigMgr demand of the role's certificate, whoever issued it, as data
// (Profile values with the Microsoft source of every part and a confidence,
// confirmed or UNCONFIRMED), plus the certificate rules (rule_*.go) that
// check any certificate against it. A failure against an UNCONFIRMED
// requirement is at most a warning.
//
// What cmgpki chooses to issue (validity, revocation pointers, PFX format,
// default key, extra key usage bits) is not a requirement: it is the
// issuance recipe of package ca, and no rule judges a certificate by it.
// Rules see the certificate, its role, the built chain when there is one
// (Subject.Chain) and the moment and ConfigMgr version of lint.Env.
package profiles
