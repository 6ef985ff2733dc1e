package profiles

import (
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// Without alternate selection criteria, a ConfigMgr client picks a client
// authentication certificate whose Subject contains the local computer name
// as a substring (case-insensitive); a name only in the SAN is not looked at
// ([PLANCERT] client certificate selection, step 5; [PKIREQ]). It applies
// when the computer name is given (Subject.ComputerName, --computer). It is
// a warning: a site with alternate criteria (CCMCERTSEL, SubjectStr:, SAN
// attributes) selects by them instead.
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "w_client_computer_name_missing",
			Description: "a client certificate's Subject should contain the computer name, or the client does not select it without alternate selection criteria",
			Citation:    lint.Cite(lint.SrcPlanCert, "Client certificate selection: the Subject contains the local computer name, unless alternate selection criteria are set"),
			Roles:       rolesOf(PKIClient),
			Fix:         "ask your CA for a certificate with the computer's FQDN in the subject CN, or configure client certificate selection criteria (CCMCERTSEL) that match it",
		},
		Applies: func(s Subject) bool { return strings.TrimSpace(s.ComputerName) != "" },
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			subj, want := strings.ToLower(s.Cert.Subject.String()), strings.ToLower(strings.TrimSpace(s.ComputerName))
			if strings.Contains(subj, want) {
				return lint.PassOutcome
			}
			o := lint.Failf("Subject %q does not contain the computer name %q", s.Cert.Subject.String(), s.ComputerName)
			for _, n := range s.Cert.DNSNames {
				if strings.Contains(strings.ToLower(n), want) {
					o.Details += " (the SAN " + n + " does, but the client looks in the Subject)"
					break
				}
			}
			return o
		},
	})
}
