package verify

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/cmgpki/cmgpki/profiles"
)

// AutoRules documents how ChooseProfile infers a role, in the order the
// rules are tried; the verify commands print it in their help.
const AutoRules = `  1. a CA certificate: root-ca when self-signed, wpj-ca when its subject is
     MS-Organization-Access, issuing-ca otherwise;
  2. issuer MS-Organization-Access (Entra device registration): wpj-device;
  3. EKU OCSP signing: ocsp-signer;
  4. EKU serverAuth and clientAuth together (the AD CS Computer template):
     pki-client;
  5. EKU serverAuth (or, for an endpoint, any certificate): cmg-server when
     the certificate has a wildcard name, or exactly one DNS name (CN and
     SAN) whose first label is a valid CMG service name prefix (3-24
     lower-case letters and digits); mp-https otherwise (several names, as
     an MP with its intranet and internet FQDN);
  6. EKU clientAuth: pki-client (give --profile cmg-connection-point for a
     connection point's certificate: the two look alike);
  7. anything else (no EKU, anyExtendedKeyUsage only, other usages): none.`

// ChooseProfile decides the profile a certificate is judged as. name is a
// profile name, "auto" (or empty) or "none". With server set (an endpoint),
// auto chooses only between cmg-server and mp-https, and a name that is
// not a server role is refused. The profile is nil for none.
func ChooseProfile(c *x509.Certificate, name string, server bool) (*ProfileChoice, *profiles.Profile, error) {
	switch strings.ToLower(name) {
	case "none":
		return &ProfileChoice{Name: "none", How: "none", Reason: "only the chain, names, validity and revocation are checked"}, nil, nil
	case "", "auto":
		role, why := inferRole(c, server)
		if role == "" {
			return &ProfileChoice{Name: "none", How: "auto", Reason: why}, nil, nil
		}
		p, err := profiles.Get(role)
		if err != nil {
			return nil, nil, err
		}
		return &ProfileChoice{Name: role, How: "auto", Reason: why}, p, nil
	}
	p, err := profiles.Get(name)
	if err != nil {
		return nil, nil, err
	}
	if server && p.Role != profiles.CMGServer && p.Role != profiles.MPHTTPS {
		return nil, nil, fmt.Errorf("verify: profile %s is not a server role (want cmg-server, mp-https, auto or none)", name)
	}
	return &ProfileChoice{Name: string(p.Role), How: "given"}, p, nil
}

const wpjIssuerCN = "MS-Organization-Access"

// inferRole applies AutoRules; an empty role means none.
func inferRole(c *x509.Certificate, server bool) (role, why string) {
	if server {
		return serverRole(c, "the endpoint presents it for server authentication")
	}
	if c.IsCA {
		switch {
		case c.Subject.CommonName == wpjIssuerCN:
			return string(profiles.WPJCA), "a CA certificate whose subject CN is " + wpjIssuerCN
		case bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil:
			return string(profiles.RootCA), "a self-signed CA certificate"
		default:
			return string(profiles.IssuingCA), "a CA certificate issued by another CA"
		}
	}
	if c.Issuer.CommonName == wpjIssuerCN {
		return string(profiles.WPJDevice), "issued by " + wpjIssuerCN + " (Entra device registration)"
	}
	has := func(e x509.ExtKeyUsage) bool {
		for _, x := range c.ExtKeyUsage {
			if x == e {
				return true
			}
		}
		return false
	}
	srv, cli := has(x509.ExtKeyUsageServerAuth), has(x509.ExtKeyUsageClientAuth)
	switch {
	case has(x509.ExtKeyUsageOCSPSigning):
		return string(profiles.OCSPSigner), "EKU OCSP signing"
	case srv && cli:
		return string(profiles.PKIClient), "EKU serverAuth and clientAuth together, as the AD CS Computer template issues client certificates"
	case srv:
		return serverRole(c, "EKU serverAuth")
	case cli:
		return string(profiles.PKIClient), "EKU clientAuth without serverAuth (use --profile cmg-connection-point for a connection point)"
	}
	return "", "no ConfigMgr role EKU (serverAuth, clientAuth, OCSP signing): only the chain, names, validity and revocation are checked"
}

// serverRole chooses between cmg-server and mp-https (AutoRules 5).
func serverRole(c *x509.Certificate, base string) (string, string) {
	names := map[string]string{} // lower case -> as written
	if c.Subject.CommonName != "" {
		names[strings.ToLower(c.Subject.CommonName)] = c.Subject.CommonName
	}
	for _, n := range c.DNSNames {
		names[strings.ToLower(n)] = n
	}
	for _, n := range names {
		if strings.HasPrefix(n, "*.") {
			return string(profiles.CMGServer), fmt.Sprintf("%s with the wildcard name %s, as a CMG certificate", base, n)
		}
	}
	if len(names) == 1 {
		for _, n := range names {
			if profiles.CheckCMGServiceName(n) == nil {
				return string(profiles.CMGServer), fmt.Sprintf("%s with one DNS name, %s, whose first label is a valid CMG service name (give --profile mp-https for a site system)", base, n)
			}
			return string(profiles.MPHTTPS), fmt.Sprintf("%s with one DNS name, %s, whose first label is not a valid CMG service name", base, n)
		}
	}
	return string(profiles.MPHTTPS), fmt.Sprintf("%s with %d DNS names, as a site system with intranet and internet FQDNs (give --profile cmg-server for a CMG)", base, len(names))
}
