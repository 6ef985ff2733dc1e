package certio

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

var shortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
	"2.5.4.9": "STREET", "2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1": "E",
}

// DN renders a DER distinguished name the way Windows and RFC 4514 do (most
// specific RDN first), keeping multi-valued RDNs joined by "+" and naming DC
// and E, which crypto/x509's Name.String leaves as OIDs.
func DN(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return fmt.Sprintf("(unparsable name %x)", raw)
	}
	parts := make([]string, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		var avs []string
		for _, av := range seq[i] {
			k, ok := shortNames[av.Type.String()]
			if !ok {
				k = av.Type.String()
			}
			avs = append(avs, k+"="+escapeDN(fmt.Sprint(av.Value)))
		}
		parts = append(parts, strings.Join(avs, "+"))
	}
	return strings.Join(parts, ",")
}

func escapeDN(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `+`, `\+`, `"`, `\"`, `<`, `\<`, `>`, `\>`, `;`, `\;`)
	s = r.Replace(s)
	if strings.HasPrefix(s, " ") || strings.HasPrefix(s, "#") {
		s = `\` + s
	}
	if strings.HasSuffix(s, " ") {
		s = s[:len(s)-1] + `\ `
	}
	return s
}
