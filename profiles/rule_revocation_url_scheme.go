package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// A client that cannot locate revocation data treats the chain as revoked
// ([PLANCERT]), and a client on the internet (through the CMG) reaches only
// http:// URLs: ldap:// points into Active Directory, and an https:// CDP or
// AIA is a chicken-and-egg problem (checking the revocation of the HTTPS
// server that serves the CRL needs a CRL; CryptoAPI and this package's chain
// engine fetch revocation data over plain http). Windows tries the URLs in
// order within 15 s each and 20 s in all ([CHAIN]), so an unreachable
// ldap:// URL ahead of the http:// one can exhaust the time. It applies when
// the certificate has a CDP or OCSP URL; without any, w_cdp_missing speaks.
// It names no Windows error: AD CS puts ldap:// ahead of http:// by default
// and a client that reaches the http:// URL checks fine; only a client that
// reaches none logs CRYPT_E_REVOCATION_OFFLINE, and the chain check
// (chain_revocation_offline) reports that where it happens.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_revocation_url_not_http",
			Description: "CDP and AIA URLs of a revocation-checked certificate should be http:// only: ldap:// and https:// are unusable for clients on the internet",
			Citation:    CitePlanCertRevocation,
			Fix:         "ask your CA to publish CDP and AIA as http:// URLs reachable from the internet (AD CS: clear the ldap:// and https:// locations in the CA's Extensions tab)",
		},
		Applies: func(s Subject) bool {
			if !s.Profile.Revocation.Checked {
				return false
			}
			return len(s.Cert.CRLDistributionPoints)+len(s.Cert.OCSPServer) > 0
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			var bad []string
			for _, u := range append(append(append([]string{}, s.Cert.CRLDistributionPoints...), s.Cert.OCSPServer...), s.Cert.IssuingCertificateURL...) {
				if !isHTTP(u) {
					bad = append(bad, u)
				}
			}
			http := false
			for _, u := range append(append([]string{}, s.Cert.CRLDistributionPoints...), s.Cert.OCSPServer...) {
				http = http || isHTTP(u)
			}
			if !http {
				return lint.Failf("CRL distribution points %q and OCSP URLs %q: none is http://, so a client on the internet cannot fetch revocation data and fails with CRYPT_E_REVOCATION_OFFLINE 0x80092013 while checking is on (ldap:// is Active Directory, https:// needs its own revocation check)",
					s.Cert.CRLDistributionPoints, s.Cert.OCSPServer)
			}
			if len(bad) > 0 {
				return lint.Failf("CDP/AIA URLs %q are not http://: clients on the internet cannot use them (ldap:// is Active Directory, https:// needs its own revocation check)", bad)
			}
			return lint.PassOutcome
		},
	})
}

func isHTTP(u string) bool { return strings.HasPrefix(strings.ToLower(u), "http://") }
