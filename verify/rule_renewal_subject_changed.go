package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

var oidCommonName = []int{2, 5, 4, 3}

// Besides the CN, a "significant" change in the renewed CMG certificate, for
// example a different organization name, may need a new CMG ([MOD]); such a
// certificate is likely rejected, or clients drop until they are moved to a
// new CMG (failure F09). Which changes count is not listed, so every other
// subject attribute that differs is a warning.
func init() {
	renewalRules.Register(lint.Rule[RenewalSubject]{
		Meta: lint.Meta{
			Name:        "w_renewal_subject_changed",
			Description: "a renewed CMG certificate should keep the subject of the certificate it replaces (organization and the other attributes)",
			Citation:    lint.Cite(lint.SrcModify, "Renew the server authentication certificate: significant changes such as the organization name may need a redeployment"),
			Fix:         "ask your CA to reissue with the previous subject; if the change is wanted, plan a new CMG and move the clients to it",
		},
		Check: func(s RenewalSubject, _ lint.Env) lint.Outcome {
			o, n := subjectAttrs(s.Old), subjectAttrs(s.New)
			if slices.Equal(o, n) {
				return lint.PassOutcome
			}
			return lint.Failf("subject attributes besides the CN changed from [%s] to [%s]", strings.Join(o, ", "), strings.Join(n, ", "))
		},
	})
}

// subjectAttrs lists a subject's attributes other than the CN as
// "OID=value", sorted.
func subjectAttrs(c *x509.Certificate) []string {
	var out []string
	for _, a := range c.Subject.Names {
		if a.Type.Equal(oidCommonName) {
			continue
		}
		out = append(out, attrName(a)+"="+fmt.Sprint(a.Value))
	}
	slices.Sort(out)
	return out
}

var attrNames = map[string]string{"2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.9": "STREET", "2.5.4.5": "SERIALNUMBER", "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "E"}

func attrName(a pkix.AttributeTypeAndValue) string {
	if n, ok := attrNames[a.Type.String()]; ok {
		return n
	}
	return a.Type.String()
}
