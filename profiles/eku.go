package profiles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// OIDs used across profiles and rules.
var (
	OIDExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	OIDOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	ekuOIDs        = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
		x509.ExtKeyUsageServerAuth:  {1, 3, 6, 1, 5, 5, 7, 3, 1},
		x509.ExtKeyUsageClientAuth:  {1, 3, 6, 1, 5, 5, 7, 3, 2},
		x509.ExtKeyUsageOCSPSigning: {1, 3, 6, 1, 5, 5, 7, 3, 9},
	}
	ekuNames = map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageServerAuth:  "serverAuth",
		x509.ExtKeyUsageClientAuth:  "clientAuth",
		x509.ExtKeyUsageOCSPSigning: "ocspSigning",
		x509.ExtKeyUsageAny:         "anyExtendedKeyUsage",
	}
)

// EKUName renders an EKU as "serverAuth (1.3.6.1.5.5.7.3.1)".
func EKUName(e x509.ExtKeyUsage) string {
	n, ok := ekuNames[e]
	if !ok {
		n = fmt.Sprintf("eku#%d", int(e))
	}
	if oid, ok := ekuOIDs[e]; ok {
		return n + " (" + oid.String() + ")"
	}
	return n
}

// EKUNames renders a list of EKUs.
func EKUNames(es []x509.ExtKeyUsage) string {
	s := make([]string, len(es))
	for i, e := range es {
		if n, ok := ekuNames[e]; ok {
			s[i] = n
		} else {
			s[i] = EKUName(e)
		}
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func marshalEKU(ekus []x509.ExtKeyUsage, critical bool) (pkix.Extension, error) {
	oids := make([]asn1.ObjectIdentifier, 0, len(ekus))
	for _, e := range ekus {
		oid, ok := ekuOIDs[e]
		if !ok {
			return pkix.Extension{}, fmt.Errorf("no OID known for EKU %d", e)
		}
		oids = append(oids, oid)
	}
	v, err := asn1.Marshal(oids)
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDExtKeyUsage, Critical: critical, Value: v}, nil
}

var kuNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

// KeyUsageNames renders key usage bits as "[digitalSignature, keyEncipherment]".
func KeyUsageNames(ku x509.KeyUsage) string {
	var s []string
	for _, k := range kuNames {
		if ku&k.bit != 0 {
			s = append(s, k.name)
		}
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// FindExtension returns the raw extension with oid, if present.
func FindExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) (pkix.Extension, bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e, true
		}
	}
	return pkix.Extension{}, false
}

var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

var oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
