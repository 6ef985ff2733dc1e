// Package verify judges certificates the way a relying party on Windows
// would: it builds a chain to the roots it is given, checks every element at
// an evaluation time that is always an input, and reports the result the way
// CAPI2 event 11 records a chain decision (elements, trust status flags,
// revocation results) together with the error a ConfigMgr client would log.
//
// Chain is the entry point. It builds candidate paths by subject name and
// AKI/SKI with backtracking, prefers a path without errors, and explains every
// path it rejected. Where Go's crypto/x509 and Windows CryptoAPI disagree
// (docs windows-trust.md §1), this package follows Windows:
//   - the host name is matched by this package: DNS SANs first, the subject CN
//     only when there is no DNS SAN (a warning: other clients refuse it);
//   - SHA-1 signatures are verified, not refused, unless
//     ChainOptions.RejectSHA1 asks for the public-root behaviour;
//   - DirectoryName name constraints are enforced, not treated as an
//     unhandled critical extension.
//
// Where Windows and RFC 5280 are strict, so is Chain: basic constraints and
// keyCertSign on issuers, pathLenConstraint, validity of every element,
// unknown critical extensions, EKU nesting through the whole path.
//
// ChainOptions.Policy chooses the rule book where Windows is more lenient
// than RFC 5280. PolicyWindows (the zero value, used by the verify
// commands) and PolicyRFC5280 (used by the public path-validation suites)
// differ in exactly one rule: a certificate that is not self-signed and has
// no authority key identifier. RFC 5280 4.2.1.1 requires the AKI, so
// PolicyRFC5280 fails the path as malformed (CERT_E_MALFORMED); CryptoAPI
// builds the chain by issuer name when there is no AKI and accepts it (a real
// Entra WPJ device certificate has none, cmg-reference.md §4), so
// PolicyWindows accepts it with the warning aki_missing. The suites'
// cases whose verdict this changes are listed in
// testdata/windows-policy-divergences.txt and checked by a test.
//
// Chain does not process certificate policies (no policy tree, no
// requireExplicitPolicy): policy extensions are accepted as known. Key sizes
// and algorithms are not chain failures (Windows' chain minimum is RSA-1024);
// they are requirement findings for the rules.
//
// Chain fetches nothing by itself. Revocation is checked first against the
// CRLs in ChainOptions.CRLs (like the CRLs a client holds); with a
// ChainOptions.Fetcher it then goes online as CryptoAPI does: every http://
// OCSP URL of the AIA (RFC 5019 GET), then every http:// CDP URL, with
// Windows' timeouts (15 s a URL, 20 s in all) and size limits. An element
// without a definite answer is "revocation offline"
// (CRYPT_E_REVOCATION_OFFLINE 0x80092013), as on a client that cannot reach
// the CDP. An element without any CDP or OCSP URL, and with no supplied CRL
// of its issuer, cannot be checked at all: CRYPT_E_NO_REVOCATION_CHECK
// 0x80092012 (CERT_TRUST_REVOCATION_STATUS_UNKNOWN without the offline flag;
// WinHTTP still reports 12057). ChainOptions.SkipLeafRevocation leaves the
// leaf out, for roles whose relying parties do not check it.
// Every URL tried is recorded in the element's RevocationResult. With
// ChainOptions.AIAFetch, missing issuers are downloaded from caIssuers URLs
// and the result says the chain is complete only through AIA.
//
// Endpoint runs a real TLS handshake and judges the presented chain with
// Chain; CheckCRL judges a CRL on its own. Both report typed Findings.
//
// Report (schema cmgpki/verify/v1) is what the verify commands print:
// CheckCertificate, CheckEndpoint, CRLCheckReport and SelectionReport merge
// the chain verdict, the rules of the certificate's role (ChooseProfile:
// given, "none", or inferred by AutoRules, with the reason) and findings
// about the input (a PFX without its key, a key that does not match,
// AES-only PFX protection) into one list of findings, most severe first.
// CheckCertificate does not check the revocation of a leaf whose role is
// not revocation-checked (profiles.RevocationSpec, for example an Entra WPJ
// device certificate); the notice revocation_not_checked_for_role says why
// and cites the profile's source.
package verify
