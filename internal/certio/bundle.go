package certio

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Format names the container a file was read as.
type Format string

// The containers ReadBundle recognises.
const (
	FormatPEM    Format = "pem"    // one or more PEM blocks (certificates, PKCS#7, CRLs, a key)
	FormatDER    Format = "der"    // one DER certificate (or several concatenated)
	FormatPKCS7  Format = "pkcs7"  // a DER PKCS#7 SignedData (.p7b)
	FormatPKCS12 Format = "pkcs12" // a PFX
	FormatCRL    Format = "crl"    // one DER CRL
)

// Sentinel errors, wrapped with the file name and detail.
var (
	// ErrWrongPassword: the PFX MAC does not verify with the password given
	// (or, without a MAC, the decryption padding is wrong). The two cannot be
	// told apart: a corrupted file and a wrong password look the same.
	ErrWrongPassword = errors.New("wrong password or corrupt MAC")
	// ErrNoCertificate: the file holds no certificate.
	ErrNoCertificate = errors.New("no certificate found")
	// ErrNoCRL: the file holds no CRL.
	ErrNoCRL = errors.New("no CRL found")
	// ErrNoPrivateKey: a PFX without a private key.
	ErrNoPrivateKey = errors.New("the PFX holds no private key")
	// ErrUnknownFormat: the bytes are none of the containers above.
	ErrUnknownFormat = errors.New("not PEM, DER certificate, PKCS#7, PKCS#12 or CRL")
)

// ReadOptions are the inputs of ReadBundle besides the file.
type ReadOptions struct {
	// Password opens a PFX and an encrypted PKCS#8 PEM key. Nil tries the
	// empty password (a PFX) and leaves an encrypted PEM key unread
	// (Bundle.KeyEncrypted).
	Password []byte
}

// Bundle is everything read from one file.
type Bundle struct {
	// Name is the file name the bundle was read from, for messages.
	Name   string `json:"name"`
	Format Format `json:"format"`
	// Certs are the certificates in file order, except that for a PFX the
	// certificate of the private key comes first.
	Certs []*x509.Certificate    `json:"-"`
	CRLs  []*x509.RevocationList `json:"-"`
	Key   crypto.Signer          `json:"-"`
	// KeyEncrypted is set when the file holds an encrypted PEM key that
	// was not decrypted because no password was given.
	KeyEncrypted bool `json:"key_encrypted,omitempty"`
	// PFX describes the protection of a PKCS#12 file; nil for others.
	PFX *PFXInfo `json:"pfx,omitempty"`
	// Skipped lists PEM block types that were present but not used
	// (for example CERTIFICATE REQUEST), in file order.
	Skipped []string `json:"skipped,omitempty"`
}

// found lists what the bundle holds, for messages: "2 certificate(s), 1
// CRL(s), PRIVATE KEY, CERTIFICATE REQUEST".
func (b *Bundle) found() string {
	var parts []string
	if n := len(b.Certs); n > 0 {
		parts = append(parts, fmt.Sprintf("%d certificate(s)", n))
	}
	if n := len(b.CRLs); n > 0 {
		parts = append(parts, fmt.Sprintf("%d CRL(s)", n))
	}
	if b.Key != nil || b.KeyEncrypted {
		parts = append(parts, "PRIVATE KEY")
	}
	parts = append(parts, b.Skipped...)
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// ReadBundle reads certificates, CRLs and an optional private key from path,
// whatever the container: PEM (any number of CERTIFICATE, PKCS7, X509 CRL
// and one private key block, with text before, between and after blocks,
// CRLF line ends and a UTF-8 BOM), a DER certificate, a DER PKCS#7 (.p7b),
// a PFX (with opts.Password) or a DER CRL. It fails when the file holds
// neither a certificate nor a CRL. Errors start with the file's base name.
func ReadBundle(path string, opts ReadOptions) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseBundle(filepath.Base(path), data, opts)
}

// ParseBundle is ReadBundle on bytes; name is used in errors.
func ParseBundle(name string, data []byte, opts ReadOptions) (*Bundle, error) {
	b, err := parseBundle(data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b.Name = name
	if len(b.Certs) == 0 && len(b.CRLs) == 0 {
		return nil, fmt.Errorf("%s: %w and no CRL (found: %s)", name, ErrNoCertificate, b.found())
	}
	return b, nil
}

// ReadCertificates is ReadBundle for a caller that needs certificates: a
// file with none is an error that says what the file holds instead
// ("x.pem: no certificate found (found: PRIVATE KEY)").
func ReadCertificates(path string, opts ReadOptions) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	b, err := parseBundle(data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b.Name = name
	if len(b.Certs) == 0 {
		return nil, fmt.Errorf("%s: %w (found: %s)", name, ErrNoCertificate, b.found())
	}
	return b, nil
}

// ReadCRLs reads the CRLs of a PEM ("X509 CRL") or DER file, or of a PKCS#7
// that carries CRLs.
func ReadCRLs(path string) ([]*x509.RevocationList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	b, err := parseBundle(data, ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b.CRLs) == 0 {
		return nil, fmt.Errorf("%s: %w (found: %s)", name, ErrNoCRL, b.found())
	}
	return b.CRLs, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func parseBundle(data []byte, opts ReadOptions) (*Bundle, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(data) == 0 {
		return nil, errors.New("file is empty")
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return parsePEMBundle(data, opts)
	}
	return parseBinary(data, opts)
}

// parseBinary sniffs a DER container by its first elements: a PFX starts
// with INTEGER 3, a PKCS#7 ContentInfo with an OID, a certificate or a CRL
// with a SEQUENCE (the TBS).
func parseBinary(data []byte, opts ReadOptions) (*Bundle, error) {
	kind, err := sniffDER(data)
	if err != nil {
		return nil, err
	}
	switch kind {
	case FormatPKCS12:
		return parsePFXBundle(data, opts)
	case FormatPKCS7:
		certs, crls, err := ParsePKCS7(data)
		if err != nil {
			return nil, err
		}
		return &Bundle{Format: FormatPKCS7, Certs: certs, CRLs: crls}, nil
	}
	return parseDERCertOrCRL(data)
}

// parseDERCertOrCRL reads a DER certificate, concatenated DER certificates
// or a DER CRL.
func parseDERCertOrCRL(data []byte) (*Bundle, error) {
	c, cerr := x509.ParseCertificate(data)
	if cerr == nil {
		return &Bundle{Format: FormatDER, Certs: []*x509.Certificate{c}}, nil
	}
	if cs, err := x509.ParseCertificates(data); err == nil && len(cs) > 1 {
		return &Bundle{Format: FormatDER, Certs: cs}, nil
	}
	rl, rerr := x509.ParseRevocationList(data)
	if rerr == nil {
		return &Bundle{Format: FormatCRL, CRLs: []*x509.RevocationList{rl}}, nil
	}
	if looksLikeCRL(data) {
		return nil, fmt.Errorf("DER CRL: %w", rerr)
	}
	return nil, fmt.Errorf("DER certificate: %w", cerr)
}

// parsePEMBundle reads every block. Unknown block types are listed in
// Skipped, so that "no certificate" errors can say what was there.
func parsePEMBundle(data []byte, opts ReadOptions) (*Bundle, error) {
	b := &Bundle{Format: FormatPEM}
	n := 0
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		n++
		where := fmt.Sprintf("PEM block %d (%s)", n, blk.Type)
		switch blk.Type {
		case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err == nil {
				b.Certs = append(b.Certs, c)
				continue
			}
			if blk.Type == "TRUSTED CERTIFICATE" {
				// OpenSSL's trusted form: the certificate followed by
				// its trust settings.
				if c2, err2 := parseLeadingCertificate(blk.Bytes); err2 == nil {
					b.Certs = append(b.Certs, c2)
					continue
				}
			}
			// Some Windows tools write a PKCS#7 under a CERTIFICATE label.
			if k, _ := sniffDER(blk.Bytes); k == FormatPKCS7 {
				certs, crls, err7 := ParsePKCS7(blk.Bytes)
				if err7 != nil {
					return nil, fmt.Errorf("%s: %w", where, err7)
				}
				b.Certs = append(b.Certs, certs...)
				b.CRLs = append(b.CRLs, crls...)
				continue
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		case "PKCS7", "PKCS #7 SIGNED DATA", "CMS":
			certs, crls, err := ParsePKCS7(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			b.Certs = append(b.Certs, certs...)
			b.CRLs = append(b.CRLs, crls...)
		case "X509 CRL", "CRL":
			rl, err := x509.ParseRevocationList(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			b.CRLs = append(b.CRLs, rl)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if b.Key != nil || b.KeyEncrypted {
				return nil, fmt.Errorf("%s: more than one private key in the file", where)
			}
			encrypted := blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != ""
			if encrypted && len(opts.Password) == 0 {
				b.KeyEncrypted = true
				continue
			}
			k, err := ParseKey(pem.EncodeToMemory(blk), opts.Password)
			if err != nil {
				if encrypted {
					return nil, fmt.Errorf("%s: wrong password or corrupt key: %w", where, err)
				}
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			b.Key = k
		default:
			b.Skipped = append(b.Skipped, blk.Type)
		}
	}
	if n == 0 {
		return nil, errors.New("PEM: no complete block (a BEGIN line without a matching END line, or bad base64)")
	}
	return b, nil
}

// parsePFXBundle reads a PFX: its protection first (which also refuses
// malformed structures and absurd iteration counts before any key
// derivation), then its contents.
func parsePFXBundle(data []byte, opts ReadOptions) (*Bundle, error) {
	info, err := ParsePFXInfo(data)
	if err != nil {
		return nil, err
	}
	key, certs, err := decodePFX(data, string(opts.Password))
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			if len(opts.Password) == 0 {
				return nil, fmt.Errorf("%w (no password given)", ErrWrongPassword)
			}
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("PKCS#12: %w", err)
	}
	b := &Bundle{Format: FormatPKCS12, Certs: certs, PFX: info}
	if key != nil {
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("PKCS#12: %T is not a signing key", key)
		}
		b.Key = s
		// The key's certificate first, whatever the bag order.
		for i, c := range certs {
			if KeyMatchesCertificate(s, c) == nil {
				b.Certs = append([]*x509.Certificate{c}, append(append([]*x509.Certificate{}, certs[:i]...), certs[i+1:]...)...)
				break
			}
		}
	}
	return b, nil
}

// decodePFX wraps go-pkcs12 and turns a panic on hostile input into an
// error: the library is not fuzzed upstream and this is an input parser.
func decodePFX(data []byte, password string) (key any, certs []*x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			key, certs, err = nil, nil, fmt.Errorf("malformed PFX (%v)", r)
		}
	}()
	k, leaf, ca, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if strings.Contains(err.Error(), "private key missing") {
			return nil, nil, fmt.Errorf("%w; export the certificates as .cer or .p7b instead", ErrNoPrivateKey)
		}
		return nil, nil, err
	}
	return k, append([]*x509.Certificate{leaf}, ca...), nil
}

// KeyMatchesCertificate reports whether key is the private key of cert's
// public key (RSA, ECDSA or Ed25519). The error says what differs.
func KeyMatchesCertificate(key crypto.Signer, cert *x509.Certificate) error {
	if key == nil || cert == nil {
		return errors.New("certio: no key or no certificate")
	}
	pub := key.Public()
	same := false
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if cp, ok := cert.PublicKey.(*rsa.PublicKey); ok {
			same = p.Equal(cp)
		}
	case *ecdsa.PublicKey:
		if cp, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
			same = p.Equal(cp)
		}
	case ed25519.PublicKey:
		if cp, ok := cert.PublicKey.(ed25519.PublicKey); ok {
			same = p.Equal(cp)
		}
	default:
		return fmt.Errorf("certio: unsupported key type %T", pub)
	}
	if same {
		return nil
	}
	kd, cd := KeyDescription(pub), KeyDescription(cert.PublicKey)
	if kd == cd {
		return fmt.Errorf("certio: the key (%s) does not match the certificate %q (%s): a different key of the same type", kd, cert.Subject.String(), cd)
	}
	return fmt.Errorf("certio: the key (%s) does not match the certificate %q (%s)", kd, cert.Subject.String(), cd)
}

// KeyDescription names a public key's type and size: "RSA-2048",
// "ECDSA P-256", "Ed25519".
func KeyDescription(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", p.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + p.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// sortedKeys is a helper for deterministic messages.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
