package profiles

import "github.com/cmgpki/cmgpki/lint"

// The CN of the CMG server authentication certificate defines the CMG
// service name: clients and the connection point talk to it, and
// Configuration Manager derives the Azure deployment name from its first
// label ([SAC] "CMG service name"). A certificate without a CN cannot name a
// CMG, whatever its SAN holds.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_cmg_cn_missing",
			Description: "the CMG server certificate must have a subject CN: it defines the CMG service name",
			Citation:    lint.Cite(lint.SrcSAC, "CMG service name: the certificate's common name (CN) defines the service name"),
			Roles:       rolesOf(CMGServer),
			Fix:         "ask your CA for a certificate whose subject CN is the CMG service name (for example CN=cmg01.contoso.com)",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			if s.Cert.Subject.CommonName == "" {
				return lint.Failf("subject %q has no CN; the CN defines the CMG service name", s.Cert.Subject.String())
			}
			return lint.PassOutcome
		},
	})
}
