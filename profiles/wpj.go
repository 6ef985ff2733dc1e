package profiles

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Entra (Workplace Join) device certificate extensions, arc
// 1.2.840.113556.1.5.284 ([DVRJ] 3.1.5.1.1.3; .5/.7/.8 from [CUE]).
var (
	OIDWPJInvocationID = asn1.ObjectIdentifier{1, 2, 840, 113556, 1, 5, 284, 1}
	OIDWPJDeviceID     = asn1.ObjectIdentifier{1, 2, 840, 113556, 1, 5, 284, 2}
	OIDWPJUserID       = asn1.ObjectIdentifier{1, 2, 840, 113556, 1, 5, 284, 3}
	OIDWPJDomainID     = asn1.ObjectIdentifier{1, 2, 840, 113556, 1, 5, 284, 4}
	OIDWPJJoinType     = asn1.ObjectIdentifier{1, 2, 840, 113556, 1, 5, 284, 7}
)

// WPJCAGUID is the OU of the Entra MS-Organization-Access issuer [HDHC].
const WPJCAGUID = "82dbaca4-3e81-46ca-9c73-0950c1eaca97"

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseGUID parses a textual GUID into its 16 bytes in Windows mixed-endian
// order (the first three groups little-endian), the order the WPJ extensions
// carry ([DVRJ] 4.1: bytes FA C6 53 9D 8E B3 09 45 ... = 9d53c6fa-b38e-4509-...).
func ParseGUID(s string) ([16]byte, error) {
	var g [16]byte
	if !guidRE.MatchString(s) {
		return g, fmt.Errorf("%q is not a GUID (want 8-4-4-4-12 hex digits)", s)
	}
	b, _ := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g, nil
}

// FormatGUID is the inverse of ParseGUID, in lower case.
func FormatGUID(g [16]byte) string {
	b := []byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6]}
	b = append(b, g[8:]...)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// IsGUID reports whether s is a textual GUID.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// wpjValue wraps content the way Entra DRS does: an OCTET STRING with a
// non-minimal long-form length (04 81 len), which encoding/asn1 refuses, so
// it is written and read by hand.
func wpjValue(content []byte) []byte {
	return append([]byte{0x04, 0x81, byte(len(content))}, content...)
}

// ParseWPJValue reads the content of a WPJ extension value written by
// wpjValue. It insists on the exact long form, since that is what Windows
// tooling (certutil, dsregcmd) is known to read.
func ParseWPJValue(v []byte) ([]byte, error) {
	if len(v) < 3 || v[0] != 0x04 || v[1] != 0x81 {
		return nil, fmt.Errorf("value % X does not start with 04 81 (OCTET STRING, long-form length)", head(v))
	}
	if int(v[2]) != len(v)-3 {
		return nil, fmt.Errorf("length byte %d does not match %d content bytes", v[2], len(v)-3)
	}
	return v[3:], nil
}

func head(v []byte) []byte {
	if len(v) > 3 {
		return v[:3]
	}
	return v
}

// WPJIdentity is what a WPJ device certificate states about the device.
type WPJIdentity struct {
	DeviceID     string // subject CN and extension .2
	InvocationID string // NTDS-DSA invocation ID, extension .1
	UserID       string // objectGUID of the registering user, extension .3
	DomainID     string // objectGUID of the domain, extension .4
	JoinType     byte   // '0' registered, '1' joined (extension .7)
}

// WPJExtensions builds the 1.2.840.113556.1.5.284.* extensions in the order
// and byte encoding of the [DVRJ] 4.1 example.
func WPJExtensions(id WPJIdentity) ([]pkix.Extension, error) {
	var out []pkix.Extension
	for _, x := range []struct {
		oid  asn1.ObjectIdentifier
		guid string
		name string
	}{
		{OIDWPJInvocationID, id.InvocationID, "invocation ID"},
		{OIDWPJDeviceID, id.DeviceID, "device ID"},
		{OIDWPJUserID, id.UserID, "user ID"},
		{OIDWPJDomainID, id.DomainID, "domain ID"},
	} {
		g, err := ParseGUID(x.guid)
		if err != nil {
			return nil, fmt.Errorf("WPJ %s: %w", x.name, err)
		}
		out = append(out, pkix.Extension{Id: x.oid, Value: wpjValue(g[:])})
	}
	if id.JoinType != '0' && id.JoinType != '1' {
		return nil, fmt.Errorf("WPJ join type %q: want '0' (registered) or '1' (joined)", id.JoinType)
	}
	out = append(out, pkix.Extension{Id: OIDWPJJoinType, Value: wpjValue([]byte{id.JoinType})})
	return out, nil
}

// WPJIssuerRDN returns the DER subject of an MS-Organization-Access-style CA:
// one multi-valued RDN DC=net + DC=windows + CN=MS-Organization-Access +
// OU=<guid> [HDHC], DC as IA5String and CN/OU as PrintableString as in the
// [DVRJ] example. crypto/x509 would write DC as PrintableString, so the RDN
// is encoded here.
func WPJIssuerRDN(cn, ouGUID string) ([]byte, error) {
	dc := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	ia5 := func(s string) asn1.RawValue { return asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(s)} }
	pr := func(s string) asn1.RawValue { return asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte(s)} }
	rdn := pkix.RDNSequence{{
		{Type: dc, Value: ia5("net")},
		{Type: dc, Value: ia5("windows")},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: pr(cn)},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: pr(ouGUID)},
	}}
	return asn1.Marshal(rdn)
}
