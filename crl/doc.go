// Package crl owns revocation: the store of issued and revoked certificates,
// CRL generation with publish-time checks, pre-signed OCSP responses, and the
// HTTP handler that serves CRLs, CA certificates and OCSP at the URLs baked
// into the certificates (internal/layout).
//
// It is handed CA certificates and signers; it never imports ca. Time comes
// from a clock.Clock, so tests pin it.
package crl
