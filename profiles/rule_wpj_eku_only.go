package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// The EKU of an Entra device certificate is clientAuth only ([DVRJ] 4.1
// example certificate: Extended Key Usage critical, TLS Web Client
// Authentication). The statement is an example, not a normative
// requirement, so other usages next to clientAuth are a warning; a missing
// clientAuth is e_eku_missing's error.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_wpj_eku_not_client_auth_only",
			Description: "an Entra device certificate's EKU should be clientAuth only",
			Citation:    lint.Cite(lint.SrcDVRJ, "4.1 example certificate: Extended Key Usage critical, clientAuth only"),
			Roles:       rolesOf(WPJDevice),
			Fix:         "a device certificate from Entra DRS carries clientAuth only; one with other usages was not issued by Entra",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			var extra []string
			for _, e := range s.Cert.ExtKeyUsage {
				if e != x509.ExtKeyUsageClientAuth {
					extra = append(extra, EKUName(e))
				}
			}
			for _, o := range s.Cert.UnknownExtKeyUsage {
				extra = append(extra, o.String())
			}
			if len(extra) > 0 {
				return lint.Failf("extended key usages %q besides clientAuth; the Entra device certificate has clientAuth only", extra)
			}
			return lint.PassOutcome
		},
	})
}
