package profiles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"
)

// KeyType names a key algorithm and size.
type KeyType string

// The supported key types. RSA 2048 is the default: it is what every CMG role
// accepts.
const (
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	RSA4096 KeyType = "rsa4096"
	P256    KeyType = "p256"
	P384    KeyType = "p384"
)

// KeyTypes lists every supported key type.
var KeyTypes = []KeyType{RSA2048, RSA3072, RSA4096, P256, P384}

// ParseKeyType parses a key type name (case-insensitive).
func ParseKeyType(s string) (KeyType, error) {
	k := KeyType(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range KeyTypes {
		if v == k {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown key type %q (want one of %s)", s, JoinKeyTypes(KeyTypes))
}

// JoinKeyTypes renders key types as "a, b, c".
func JoinKeyTypes(ks []KeyType) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// IsRSA reports whether k is an RSA key type.
func (k KeyType) IsRSA() bool { return strings.HasPrefix(string(k), "rsa") }

// RSABits returns the modulus size of an RSA key type, or 0.
func (k KeyType) RSABits() int {
	switch k {
	case RSA2048:
		return 2048
	case RSA3072:
		return 3072
	case RSA4096:
		return 4096
	}
	return 0
}

// Curve returns the curve name of an EC key type ("P-256", "P-384"), or "".
func (k KeyType) Curve() string {
	switch k {
	case P256:
		return "P-256"
	case P384:
		return "P-384"
	}
	return ""
}

// KeyTypeOf reports the key type of a public key, or an error naming what it
// is when it is none of the supported ones.
func KeyTypeOf(pub crypto.PublicKey) (KeyType, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048, nil
		case 3072:
			return RSA3072, nil
		case 4096:
			return RSA4096, nil
		}
		return "", fmt.Errorf("RSA %d-bit key", k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return P256, nil
		case elliptic.P384():
			return P384, nil
		}
		return "", fmt.Errorf("ECDSA %s key", k.Curve.Params().Name)
	}
	return "", fmt.Errorf("%T key", pub)
}

// DescribeKey renders a public key as "RSA 2048", "ECDSA P-521" or its Go
// type.
func DescribeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}

func (k KeySpec) acceptsRSA(bits int) bool {
	if k.RSASizes != nil {
		return slices.Contains(k.RSASizes, bits)
	}
	return k.RSAMin > 0 && bits >= k.RSAMin
}

// Accepts reports whether the requirement accepts the public key pub.
func (k KeySpec) Accepts(pub crypto.PublicKey) bool {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return k.acceptsRSA(p.N.BitLen())
	case *ecdsa.PublicKey:
		return slices.Contains(k.Curves, p.Curve.Params().Name)
	}
	return false
}

// AcceptsType reports whether the requirement accepts keys of type t.
func (k KeySpec) AcceptsType(t KeyType) bool {
	if t.IsRSA() {
		return k.acceptsRSA(t.RSABits())
	}
	return t.Curve() != "" && slices.Contains(k.Curves, t.Curve())
}

// String renders the accepted keys: "RSA 2048 or 4096", "RSA >= 2048;
// ECDSA P-256, P-384, P-521".
func (k KeySpec) String() string {
	var parts []string
	switch {
	case k.RSASizes != nil:
		s := make([]string, len(k.RSASizes))
		for i, b := range k.RSASizes {
			s[i] = fmt.Sprint(b)
		}
		parts = append(parts, "RSA "+strings.Join(s, " or "))
	case k.RSAMin > 0:
		parts = append(parts, fmt.Sprintf("RSA >= %d", k.RSAMin))
	}
	if len(k.Curves) > 0 {
		parts = append(parts, "ECDSA "+strings.Join(k.Curves, ", "))
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, "; ")
}
