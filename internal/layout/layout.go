// Package layout derives the revocation and CA-certificate URLs of a lab CA
// from the base URL and the CA's name.
//
// It is the one place these URLs are decided: issuance bakes them into
// certificates (CDP, AIA caIssuers, OCSP) and the revocation server answers
// at the same paths. WARNING: changing a path strands every certificate that
// was already issued with the old URL.
package layout

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DefaultBaseURL is where `cmgpki serve` listens by default, so a lab made with
// no flags is served on loopback.
const DefaultBaseURL = "http://127.0.0.1:8080"

// Paths under the base URL.
const (
	CRLPrefix  = "/crl/" // CRLPrefix + NAME + ".crl": DER CRL, equal to CDP and IDP
	CAPrefix   = "/ca/"  // CAPrefix + NAME + ".cer": DER CA certificate (AIA caIssuers)
	OCSPPath   = "/ocsp" // POST; GET at OCSPPath + "/" + base64(request)
	HealthPath = "/healthz"
)

// URLs are the revocation and AIA URLs of one CA.
type URLs struct {
	CRL    string // CRL distribution point of certificates the CA issues
	CACert string // AIA caIssuers URL (the CA's own certificate, DER)
	OCSP   string // AIA OCSP responder URL
}

var caName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidCAName reports whether name is usable as a CA name in URL paths and
// file names: lower-case letters, digits and dashes, at most 63 characters.
func ValidCAName(name string) error {
	if !caName.MatchString(name) {
		return fmt.Errorf("CA name %q must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit", name)
	}
	return nil
}

// ParseBaseURL checks that base is an absolute http URL without query or
// fragment, and returns it without a trailing slash. Plain HTTP on purpose:
// Windows fetches CDP, AIA and OCSP over HTTP, and an HTTPS CDP signed by the
// CA it describes cannot be checked (chicken and egg).
func ParseBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("base URL %q: %w", base, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("base URL %q: scheme must be http (Windows fetches CDP/AIA/OCSP over plain HTTP)", base)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q: want http://host[:port][/path] with no query, fragment or user info", base)
	}
	return strings.TrimRight(base, "/"), nil
}

// For returns the URLs of CA name under base (already checked by ParseBaseURL).
func For(base, name string) URLs {
	return URLs{
		CRL:    base + CRLPrefix + name + ".crl",
		CACert: base + CAPrefix + name + ".cer",
		OCSP:   base + OCSPPath,
	}
}
