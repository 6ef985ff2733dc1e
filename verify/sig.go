package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
)

// checkSignature verifies signed/sig under parent's key. Unlike
// x509.Certificate.CheckSignature it verifies SHA-1 signatures (and reports
// them as weak) because Windows accepts them under enterprise roots
// (golang/go#62048 is Go's refusal). MD5 stays refused, as on Windows.
func checkSignature(algo x509.SignatureAlgorithm, signed, sig []byte, parent *x509.Certificate) (weak bool, err error) {
	err = parent.CheckSignature(algo, signed, sig)
	var insecure x509.InsecureAlgorithmError
	if err == nil || !errors.As(err, &insecure) {
		return false, err
	}
	h := sha1.Sum(signed)
	switch algo {
	case x509.SHA1WithRSA:
		pub, ok := parent.PublicKey.(*rsa.PublicKey)
		if !ok {
			return true, fmt.Errorf("signature algorithm %v does not match the issuer's %v key", algo, parent.PublicKeyAlgorithm)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, h[:], sig); err != nil {
			return true, errors.New("SHA-1 RSA signature does not verify")
		}
		return true, nil
	case x509.ECDSAWithSHA1:
		pub, ok := parent.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return true, fmt.Errorf("signature algorithm %v does not match the issuer's %v key", algo, parent.PublicKeyAlgorithm)
		}
		if !ecdsa.VerifyASN1(pub, h[:], sig) {
			return true, errors.New("SHA-1 ECDSA signature does not verify")
		}
		return true, nil
	}
	return true, err
}

func isSHA1(a x509.SignatureAlgorithm) bool {
	return a == x509.SHA1WithRSA || a == x509.ECDSAWithSHA1 || a == x509.DSAWithSHA1
}
