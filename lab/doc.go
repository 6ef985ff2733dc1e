// Package lab is the lab directory contract: manifest.json (schema
// cmgpki/lab/v1) and the loaders every reader of a lab uses (certificates,
// chains, keys, tls.Certificate, the CAs as issuers for the revocation
// server). ca writes labs through it; cmd, the crl tests, verify and the
// handshake simulator read them through it, never by guessing file names.
//
// lab only reads and writes files; it issues nothing and never imports ca
// or crl. Issuers returns neutral values that a caller converts to
// crl.Issuer in one line.
package lab
