package cmd

import (
	"crypto"
	"crypto/x509"
	"os"

	"github.com/cmgpki/cmgpki/internal/certio"
)

func decodePFX(path, password string) (crypto.PrivateKey, *x509.Certificate, []*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	return certio.DecodePFX(b, password)
}

func parseCRL(der []byte) (*x509.RevocationList, error) { return x509.ParseRevocationList(der) }
