// Package certio reads and writes certificate and key containers (PEM, DER,
// PKCS#8, PKCS#12) and writes files atomically. It decides nothing about
// validity or policy.
package certio

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.step.sm/crypto/pemutil"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a reader never sees a half-written file. perm
// applies from the first byte (keys are never briefly world-readable).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// CertPEM encodes certificates as concatenated PEM blocks.
func CertPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// ParseCertificates reads every certificate in data, PEM or a single DER.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	data = bytes.TrimPrefix(data, utf8BOM) // else pem.Decode skips the first block
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("not PEM, and not a DER certificate: %w", err)
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return out, nil
}

// ReadCertificate reads the first certificate of a PEM or DER file.
func ReadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cs, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cs[0], nil
}

// KeyPEM marshals a private key as PKCS#8 PEM. With a non-empty password the
// key is encrypted (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), readable by
// OpenSSL 3. rand supplies the salt and IV.
func KeyPEM(rand io.Reader, key crypto.Signer, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if len(password) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	blk, err := pemutil.EncryptPKCS8PrivateKey(rand, der, password, x509.PEMCipherAES256)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(blk), nil
}

// ErrKeyEncrypted is returned (wrapped) for an encrypted key read without a
// password; ErrKeyPassword for one that the password given does not open.
// Callers name where the password comes from (a flag, a variable).
var (
	ErrKeyEncrypted = errors.New("key is encrypted; pass --key-password-file")
	ErrKeyPassword  = errors.New("key password incorrect")
)

// ParseKey reads a PEM private key (PKCS#8, PKCS#1 or SEC1; encrypted PKCS#8
// with password).
func ParseKey(data, password []byte) (crypto.Signer, error) {
	var opts []pemutil.Options
	if len(password) > 0 {
		opts = append(opts, pemutil.WithPassword(password))
	}
	k, err := pemutil.ParseKey(data, opts...)
	if err != nil {
		if bytes.Contains(data, []byte("ENCRYPTED")) {
			if len(password) == 0 {
				return nil, ErrKeyEncrypted
			}
			return nil, fmt.Errorf("%w (%v)", ErrKeyPassword, err)
		}
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T is not a signing key", k)
	}
	return s, nil
}

// ReadKey reads a PEM private key file.
func ReadKey(path string, password []byte) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// PFXFormat selects the PKCS#12 encryption.
type PFXFormat string

// The PFX formats. Never Modern2026 (PBMAC1, no Windows support) and never
// RC2 (OpenSSL 3 needs -legacy).
const (
	// PFXLegacy is 3DES with a SHA-1 MAC: imports on every Windows version,
	// including Server 2016 and 2012 R2.
	PFXLegacy PFXFormat = "legacy"
	// PFXModern is PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC with a SHA-256 MAC:
	// Windows 10 1709 / Server 2019 and later.
	PFXModern PFXFormat = "modern"
)

// ParsePFXFormat checks a --pfx-format value.
func ParsePFXFormat(s string) (PFXFormat, error) {
	switch PFXFormat(strings.ToLower(s)) {
	case PFXLegacy:
		return PFXLegacy, nil
	case PFXModern:
		return PFXModern, nil
	}
	return "", fmt.Errorf("unknown PFX format %q (want legacy or modern)", s)
}

// EncodePFX writes key, leaf and chain (intermediates and root) as PKCS#12.
// rand supplies salts and IVs; an empty password is refused because Windows
// and the CMG wizard expect one.
func EncodePFX(rand io.Reader, f PFXFormat, key crypto.Signer, leaf *x509.Certificate, chain []*x509.Certificate, password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("PFX password is empty")
	}
	var enc *pkcs12.Encoder
	switch f {
	case PFXLegacy:
		enc = pkcs12.LegacyDES
	case PFXModern:
		enc = pkcs12.Modern2023
	default:
		return nil, fmt.Errorf("unknown PFX format %q", f)
	}
	return enc.WithRand(rand).Encode(key, leaf, chain, password)
}

// DecodePFX reads a PKCS#12 file.
func DecodePFX(data []byte, password string) (crypto.PrivateKey, *x509.Certificate, []*x509.Certificate, error) {
	return pkcs12.DecodeChain(data, password)
}

// SHA1Thumbprint is the Windows "Thumbprint": SHA-1 of the DER, upper-case hex.
func SHA1Thumbprint(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// SHA256Fingerprint is SHA-256 of the DER, lower-case hex.
func SHA256Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// ReadSecretFile reads a password file. It accepts what editors, `echo` and
// PowerShell write: UTF-8 with or without a byte-order mark, and UTF-16 LE or
// BE with a byte-order mark (Windows PowerShell 5.1's `>` and Out-File
// default), and drops one trailing line ending (LF, CRLF or CR). It refuses,
// naming the file, an empty password, NUL bytes (UTF-16 without a BOM),
// invalid UTF-8 and a password of more than one line, rather than use bytes
// nobody typed as the password.
func ReadSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pw, err := DecodeSecret(b)
	if err != nil {
		return nil, fmt.Errorf("password file %s: %w", path, err)
	}
	return pw, nil
}

// DecodeSecret decodes the contents of a password file as ReadSecretFile
// does and returns the password as UTF-8.
func DecodeSecret(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		u, err := decodeUTF16(b[2:], binary.LittleEndian)
		if err != nil {
			return nil, fmt.Errorf("UTF-16 LE: %w", err)
		}
		b = u
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		u, err := decodeUTF16(b[2:], binary.BigEndian)
		if err != nil {
			return nil, fmt.Errorf("UTF-16 BE: %w", err)
		}
		b = u
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, errors.New("holds NUL bytes (UTF-16 without a byte-order mark?); save it as UTF-8 or UTF-16 with a BOM")
	}
	if !utf8.Valid(b) {
		return nil, errors.New("is not valid UTF-8 (save it as UTF-8, or UTF-16 with a BOM)")
	}
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		b = b[:len(b)-2]
	case bytes.HasSuffix(b, []byte("\n")), bytes.HasSuffix(b, []byte("\r")):
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil, errors.New("is empty")
	}
	if bytes.ContainsAny(b, "\r\n") {
		return nil, errors.New("holds more than one line; put the password alone on the first line")
	}
	return b, nil
}

func decodeUTF16(b []byte, order binary.ByteOrder) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("odd number of bytes (%d) after the byte-order mark", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	var out []byte
	for i := 0; i < len(u); i++ {
		r := rune(u[i])
		if utf16.IsSurrogate(r) {
			if i+1 >= len(u) {
				return nil, errors.New("unpaired surrogate")
			}
			r = utf16.DecodeRune(r, rune(u[i+1]))
			if r == utf8.RuneError {
				return nil, errors.New("unpaired surrogate")
			}
			i++
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}
