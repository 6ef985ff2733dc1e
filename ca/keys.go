package ca

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.step.sm/crypto/keyutil"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/profiles"
)

// GenerateKey makes a new key of type k. Go ignores caller-supplied
// randomness in key generation (since 1.26), so there is no rand parameter:
// reproducible runs reuse keys through a KeyStore instead.
func GenerateKey(k profiles.KeyType) (crypto.Signer, error) {
	if k.IsRSA() {
		return keyutil.GenerateSigner("RSA", "", k.RSABits())
	}
	if c := k.Curve(); c != "" {
		return keyutil.GenerateSigner("EC", c, 0)
	}
	return nil, fmt.Errorf("ca: cannot generate key type %q", k)
}

// KeyStore keeps one unencrypted PKCS#8 key per certificate name in a
// directory, generated on first use and reused after, for reproducible
// fixtures. The zero Dir means every key is fresh.
type KeyStore struct {
	Dir string
}

// Get returns the key for name, loading it when present (and checking its
// type is k) or generating and saving it (0600) when absent.
func (s KeyStore) Get(name string, k profiles.KeyType) (key crypto.Signer, reused bool, err error) {
	if s.Dir == "" {
		key, err = GenerateKey(k)
		return key, false, err
	}
	path := filepath.Join(s.Dir, name+".key")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := certio.ParseKey(b, nil)
		if err != nil {
			return nil, false, fmt.Errorf("ca: key store %s: %w", path, err)
		}
		got, err := profiles.KeyTypeOf(key.Public())
		if err != nil || got != k {
			return nil, false, fmt.Errorf("ca: key store %s holds a %s key; %s needs %s (delete the file to regenerate)", path, got, name, k)
		}
		return key, true, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, false, fmt.Errorf("ca: key store: %w", err)
	}
	key, err = GenerateKey(k)
	if err != nil {
		return nil, false, err
	}
	pemBytes, err := certio.KeyPEM(nil, key, nil)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("ca: key store: %w", err)
	}
	if err := certio.WriteFileAtomic(path, pemBytes, 0o600); err != nil {
		return nil, false, fmt.Errorf("ca: key store: %w", err)
	}
	return key, false, nil
}
