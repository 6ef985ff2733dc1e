package profiles

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/cmgpki/cmgpki/lint"
)

// An Entra device certificate carries 1.2.840.113556.1.5.284.1 to .4 (16-byte
// GUIDs) and .7 (join type '0' or '1'), each an OCTET STRING with the
// long-form length 04 81 len, and .2 equals the subject CN ([DVRJ]
// 3.1.5.1.1.3 and the 4.1 example; [CUE] for .7).
func init() {
	certRules.Register(lint.Rule[Subject]{
		Meta: lint.Meta{
			Name:        "e_wpj_extensions",
			Description: "an Entra device certificate must carry the 1.2.840.113556.1.5.284 extensions .1-.4 and .7 in the DRS byte encoding, with .2 equal to the subject CN",
			Citation:    lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 device certificate extensions; 4.1 example encoding"),
			Roles:       rolesOf(WPJDevice),
			Fix:         "a device certificate from Entra DRS carries these extensions; re-register the device (dsregcmd /leave, then join) to get a new one",
		},
		Check: func(s Subject, _ lint.Env) lint.Outcome {
			var problems []string
			for _, spec := range s.Profile.Extensions {
				e, ok := FindExtension(s.Cert, spec.OID)
				if !ok {
					problems = append(problems, spec.OID.String()+" ("+spec.Name+") missing")
					continue
				}
				v, err := ParseWPJValue(e.Value)
				if err != nil {
					problems = append(problems, spec.OID.String()+": "+err.Error())
					continue
				}
				switch {
				case spec.OID.Equal(OIDWPJJoinType):
					if len(v) != 1 || (v[0] != '0' && v[0] != '1') {
						problems = append(problems, "join type is "+string(v)+"; want '0' or '1'")
					}
				case len(v) != 16:
					problems = append(problems, fmt.Sprintf("%s holds %d bytes; want a 16-byte GUID", spec.OID, len(v)))
				case spec.OID.Equal(OIDWPJDeviceID):
					if g, err := ParseGUID(s.Cert.Subject.CommonName); err != nil || !bytes.Equal(g[:], v) {
						problems = append(problems, "device ID "+FormatGUID([16]byte(v))+" does not equal subject CN "+s.Cert.Subject.CommonName)
					}
				}
			}
			if len(problems) > 0 {
				return lint.Failf("%s", strings.Join(problems, "; "))
			}
			return lint.PassOutcome
		},
	})
}
