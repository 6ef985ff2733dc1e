package certio

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DER structure readers for the containers crypto/x509 does not parse:
// PKCS#7 SignedData (RFC 2315 §9.1, RFC 5652 §5.1) and the outer layers of
// PKCS#12 (RFC 7292 §4, §5.1). Everything is read with cryptobyte, which
// refuses BER (indefinite lengths, non-minimal lengths): such files get an
// error that says so rather than a guess.

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}

	tagExplicit0 = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagExplicit1 = cbasn1.Tag(1).ContextSpecific().Constructed()
)

// berHint explains a cryptobyte failure on a file that may be BER.
func berHint(data []byte) string {
	if len(data) > 1 && data[1] == 0x80 {
		return " (BER indefinite-length encoding is not supported; re-encode as DER, e.g. openssl pkcs7 -outform DER)"
	}
	return ""
}

// sniffDER says which DER container data looks like, from the first
// element inside the outer SEQUENCE.
func sniffDER(data []byte) (Format, error) {
	s := cryptobyte.String(data)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		if len(data) > 0 && data[0] == 0x30 {
			return "", fmt.Errorf("%w: malformed DER SEQUENCE%s", ErrUnknownFormat, berHint(data))
		}
		return "", ErrUnknownFormat
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.INTEGER):
		return FormatPKCS12, nil
	case seq.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1ObjectIdentifier(&oid) {
			return "", fmt.Errorf("%w: malformed content type", ErrUnknownFormat)
		}
		if !oid.Equal(oidSignedData) {
			return "", fmt.Errorf("PKCS#7 content type %s is not signedData (1.2.840.113549.1.7.2)", oid)
		}
		return FormatPKCS7, nil
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		return FormatDER, nil
	}
	return "", ErrUnknownFormat
}

// looksLikeCRL reports whether a DER SEQUENCE{SEQUENCE tbs,...} has a
// TBSCertList shape: optional INTEGER version, two SEQUENCEs (signature
// algorithm, issuer), then a time (thisUpdate). A TBSCertificate has a
// SEQUENCE (validity) in that place.
func looksLikeCRL(data []byte) bool {
	s := cryptobyte.String(data)
	var outer, tbs cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return false
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		tbs.SkipASN1(cbasn1.INTEGER)
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return false
	}
	return tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime)
}

// parseLeadingCertificate parses the first DER element of data as a
// certificate and ignores what follows (OpenSSL's TRUSTED CERTIFICATE).
func parseLeadingCertificate(data []byte) (*x509.Certificate, error) {
	s := cryptobyte.String(data)
	var el cryptobyte.String
	if !s.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed certificate")
	}
	return x509.ParseCertificate(el)
}

// ParsePKCS7 returns the certificates and CRLs of a DER PKCS#7 SignedData
// (a .p7b "certs-only" file or any signed message). The signature, if any,
// is not checked: the file is only a carrier. Attribute certificates and
// other certificate choices are skipped.
func ParsePKCS7(der []byte) ([]*x509.Certificate, []*x509.RevocationList, error) {
	s := cryptobyte.String(der)
	var ci, content, sd cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) {
		return nil, nil, fmt.Errorf("PKCS#7: malformed ContentInfo%s", berHint(der))
	}
	if !s.Empty() {
		return nil, nil, errors.New("PKCS#7: trailing data after the ContentInfo")
	}
	if !ci.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, errors.New("PKCS#7: malformed content type")
	}
	if !oid.Equal(oidSignedData) {
		return nil, nil, fmt.Errorf("PKCS#7: content type %s is not signedData (1.2.840.113549.1.7.2)", oid)
	}
	if !ci.ReadASN1(&content, tagExplicit0) || !content.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("PKCS#7: malformed SignedData")
	}
	var version int64
	if !sd.ReadASN1Integer(&version) || !sd.SkipASN1(cbasn1.SET) || !sd.SkipASN1(cbasn1.SEQUENCE) {
		return nil, nil, errors.New("PKCS#7: malformed SignedData header (version, digest algorithms, content)")
	}
	var certs []*x509.Certificate
	var crls []*x509.RevocationList
	if sd.PeekASN1Tag(tagExplicit0) {
		var set cryptobyte.String
		if !sd.ReadASN1(&set, tagExplicit0) {
			return nil, nil, errors.New("PKCS#7: malformed certificates set")
		}
		for i := 1; !set.Empty(); i++ {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadAnyASN1Element(&el, &tag) {
				return nil, nil, fmt.Errorf("PKCS#7: certificate %d: malformed element", i)
			}
			if tag != cbasn1.SEQUENCE {
				continue // extendedCertificate, attribute certificates, other
			}
			c, err := x509.ParseCertificate(el)
			if err != nil {
				return nil, nil, fmt.Errorf("PKCS#7: certificate %d: %w", i, err)
			}
			certs = append(certs, c)
		}
	}
	if sd.PeekASN1Tag(tagExplicit1) {
		var set cryptobyte.String
		if !sd.ReadASN1(&set, tagExplicit1) {
			return nil, nil, errors.New("PKCS#7: malformed CRL set")
		}
		for i := 1; !set.Empty(); i++ {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadAnyASN1Element(&el, &tag) {
				return nil, nil, fmt.Errorf("PKCS#7: CRL %d: malformed element", i)
			}
			if tag != cbasn1.SEQUENCE {
				continue // otherRevocationInfoFormat
			}
			rl, err := x509.ParseRevocationList(el)
			if err != nil {
				return nil, nil, fmt.Errorf("PKCS#7: CRL %d: %w", i, err)
			}
			crls = append(crls, rl)
		}
	}
	if !sd.PeekASN1Tag(cbasn1.SET) {
		return nil, nil, errors.New("PKCS#7: malformed SignedData (no signerInfos set)")
	}
	return certs, crls, nil
}

// PBEAlgorithm is a password-based encryption algorithm of a PFX.
type PBEAlgorithm struct {
	OID string `json:"oid"`
	// Name is the OpenSSL-style name: "PBE-SHA1-3DES", "PBE-SHA1-RC2-40",
	// "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC"; the OID when unknown.
	Name string `json:"name"`
	// Cipher is the cipher alone: "3DES", "RC2-40", "AES-256-CBC", ...;
	// empty when unknown.
	Cipher string `json:"cipher,omitempty"`
	// Iterations of the key derivation.
	Iterations int `json:"iterations"`
}

// AES reports whether the algorithm is PBES2 with an AES cipher.
func (a PBEAlgorithm) AES() bool { return strings.HasPrefix(a.Cipher, "AES-") }

// PFXMAC is the integrity protection of a PFX.
type PFXMAC struct {
	OID string `json:"oid"`
	// Algorithm is "SHA-1", "SHA-256", ... (the HMAC digest, RFC 7292
	// appendix B key derivation) or "PBMAC1 HMAC-SHA256" (RFC 9579).
	Algorithm  string `json:"algorithm"`
	Iterations int    `json:"iterations"`
}

// PFXContent is one ContentInfo of a PFX's AuthenticatedSafe.
type PFXContent struct {
	// Encrypted is set for an EncryptedData content; its bags are not
	// visible without decryption.
	Encrypted bool          `json:"encrypted"`
	Algorithm *PBEAlgorithm `json:"algorithm,omitempty"`
	// Bags are the bag types of a plain content: keyBag,
	// pkcs8ShroudedKeyBag, certBag, crlBag, secretBag, safeContentsBag.
	Bags []string `json:"bags,omitempty"`
}

// PFXInfo describes how a PFX is protected, read without the password.
type PFXInfo struct {
	// MAC is nil when the file has no MAC (no integrity protection).
	MAC      *PFXMAC      `json:"mac,omitempty"`
	Contents []PFXContent `json:"contents"`
	// KeyAlgorithms protect the pkcs8ShroudedKeyBags of plain contents.
	KeyAlgorithms []PBEAlgorithm `json:"key_algorithms,omitempty"`
	// CertAlgorithms protect the encrypted contents, which hold the
	// certificate bags in files written by Windows, OpenSSL and go-pkcs12.
	// A key bag inside an encrypted content (some other writers) is
	// protected by this algorithm too, and its own algorithm is not listed.
	CertAlgorithms []PBEAlgorithm `json:"cert_algorithms,omitempty"`
	// ClearKey and ClearCerts are set when a keyBag or certBag lies in a
	// plain content, unencrypted.
	ClearKey   bool `json:"clear_key,omitempty"`
	ClearCerts bool `json:"clear_certs,omitempty"`
}

// Algorithms returns every encryption algorithm of the file, keys first.
func (p *PFXInfo) Algorithms() []PBEAlgorithm {
	return append(append([]PBEAlgorithm{}, p.KeyAlgorithms...), p.CertAlgorithms...)
}

// AESOnly reports whether every encryption in the file is PBES2 with AES
// (and there is at least one). Windows Server 2016 and older cannot import
// such a file and report a misleading wrong-password error
// (cmg-reference.md §9 [PFXCMD][DOTNET]).
func (p *PFXInfo) AESOnly() bool {
	algs := p.Algorithms()
	for _, a := range algs {
		if !a.AES() {
			return false
		}
	}
	return len(algs) > 0
}

// UsesAES reports whether any encryption in the file is PBES2 with AES.
func (p *PFXInfo) UsesAES() bool {
	for _, a := range p.Algorithms() {
		if a.AES() {
			return true
		}
	}
	return false
}

// String is a one-line summary: "key PBE-SHA1-3DES; certificates
// PBE-SHA1-RC2-40; MAC SHA-1".
func (p *PFXInfo) String() string {
	names := func(as []PBEAlgorithm) string {
		seen := map[string]bool{}
		for _, a := range as {
			seen[a.Name] = true
		}
		return strings.Join(sortedKeys(seen), ", ")
	}
	var parts []string
	switch {
	case len(p.KeyAlgorithms) > 0:
		parts = append(parts, "key "+names(p.KeyAlgorithms))
	case p.ClearKey:
		parts = append(parts, "key unencrypted")
	}
	switch {
	case len(p.CertAlgorithms) > 0:
		parts = append(parts, "certificates "+names(p.CertAlgorithms))
	case p.ClearCerts:
		parts = append(parts, "certificates unencrypted")
	}
	if p.MAC != nil {
		parts = append(parts, "MAC "+p.MAC.Algorithm)
	} else {
		parts = append(parts, "no MAC")
	}
	return strings.Join(parts, "; ")
}

// MaxPFXIterations bounds every iteration count of a PFX. Windows writes
// 2000, OpenSSL 2048; a hostile file could otherwise make key derivation
// run for hours.
const MaxPFXIterations = 1_000_000

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
)

var pbeNames = map[string][2]string{
	"1.2.840.113549.1.12.1.1": {"PBE-SHA1-RC4-128", "RC4-128"},
	"1.2.840.113549.1.12.1.2": {"PBE-SHA1-RC4-40", "RC4-40"},
	"1.2.840.113549.1.12.1.3": {"PBE-SHA1-3DES", "3DES"},
	"1.2.840.113549.1.12.1.4": {"PBE-SHA1-2DES", "2DES"},
	"1.2.840.113549.1.12.1.5": {"PBE-SHA1-RC2-128", "RC2-128"},
	"1.2.840.113549.1.12.1.6": {"PBE-SHA1-RC2-40", "RC2-40"},
	"1.2.840.113549.1.5.1":    {"PBE-MD2-DES", "DES"},
	"1.2.840.113549.1.5.3":    {"PBE-MD5-DES", "DES"},
	"1.2.840.113549.1.5.4":    {"PBE-MD2-RC2-64", "RC2-64"},
	"1.2.840.113549.1.5.6":    {"PBE-MD5-RC2-64", "RC2-64"},
	"1.2.840.113549.1.5.10":   {"PBE-SHA1-DES", "DES"},
	"1.2.840.113549.1.5.11":   {"PBE-SHA1-RC2-64", "RC2-64"},
}

var cipherNames = map[string]string{
	"2.16.840.1.101.3.4.1.2":  "AES-128-CBC",
	"2.16.840.1.101.3.4.1.22": "AES-192-CBC",
	"2.16.840.1.101.3.4.1.42": "AES-256-CBC",
	"1.2.840.113549.3.7":      "DES-EDE3-CBC",
	"1.3.14.3.2.7":            "DES-CBC",
	"1.2.840.113549.3.2":      "RC2-CBC",
}

var prfNames = map[string]string{
	"1.2.840.113549.2.7":  "HMAC-SHA1",
	"1.2.840.113549.2.8":  "HMAC-SHA224",
	"1.2.840.113549.2.9":  "HMAC-SHA256",
	"1.2.840.113549.2.10": "HMAC-SHA384",
	"1.2.840.113549.2.11": "HMAC-SHA512",
}

var digestNames = map[string]string{
	"1.3.14.3.2.26":          "SHA-1",
	"2.16.840.1.101.3.4.2.1": "SHA-256",
	"2.16.840.1.101.3.4.2.2": "SHA-384",
	"2.16.840.1.101.3.4.2.3": "SHA-512",
	"2.16.840.1.101.3.4.2.4": "SHA-224",
	"1.2.840.113549.2.5":     "MD5",
}

var bagNames = map[string]string{
	"1.2.840.113549.1.12.10.1.1": "keyBag",
	"1.2.840.113549.1.12.10.1.2": "pkcs8ShroudedKeyBag",
	"1.2.840.113549.1.12.10.1.3": "certBag",
	"1.2.840.113549.1.12.10.1.4": "crlBag",
	"1.2.840.113549.1.12.10.1.5": "secretBag",
	"1.2.840.113549.1.12.10.1.6": "safeContentsBag",
}

// readAlgID reads an AlgorithmIdentifier: the OID and the raw parameters
// (empty when absent).
func readAlgID(s *cryptobyte.String) (asn1.ObjectIdentifier, cryptobyte.String, bool) {
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, false
	}
	return oid, seq, true
}

func checkIterations(n int64, what string) error {
	if n < 1 || n > MaxPFXIterations {
		return fmt.Errorf("PKCS#12: %s iteration count %d is outside 1..%d", what, n, MaxPFXIterations)
	}
	return nil
}

// readPBKDF2 reads PBKDF2-params: salt, iterations, optional key length,
// optional PRF (default HMAC-SHA1).
func readPBKDF2(params cryptobyte.String) (iter int64, prf string, ok bool) {
	var p cryptobyte.String
	if !params.ReadASN1(&p, cbasn1.SEQUENCE) {
		return 0, "", false
	}
	var salt cryptobyte.String
	var tag cbasn1.Tag
	if !p.ReadAnyASN1Element(&salt, &tag) || !p.ReadASN1Integer(&iter) {
		return 0, "", false
	}
	if p.PeekASN1Tag(cbasn1.INTEGER) {
		var kl int64
		if !p.ReadASN1Integer(&kl) {
			return 0, "", false
		}
	}
	prf = "HMAC-SHA1"
	if !p.Empty() {
		oid, _, ok := readAlgID(&p)
		if !ok {
			return 0, "", false
		}
		prf = prfNames[oid.String()]
		if prf == "" {
			prf = oid.String()
		}
	}
	return iter, prf, true
}

// readPBE reads an encryption AlgorithmIdentifier of a PFX: a PKCS#12 or
// PKCS#5 v1 PBE (salt, iterations) or PBES2.
func readPBE(s *cryptobyte.String, what string) (PBEAlgorithm, error) {
	oid, params, ok := readAlgID(s)
	if !ok {
		return PBEAlgorithm{}, fmt.Errorf("PKCS#12: %s: malformed algorithm identifier", what)
	}
	a := PBEAlgorithm{OID: oid.String(), Name: oid.String()}
	if n, ok := pbeNames[a.OID]; ok {
		a.Name, a.Cipher = n[0], n[1]
		var p cryptobyte.String
		var iter int64
		if !params.ReadASN1(&p, cbasn1.SEQUENCE) || !p.SkipASN1(cbasn1.OCTET_STRING) || !p.ReadASN1Integer(&iter) {
			return a, fmt.Errorf("PKCS#12: %s: malformed %s parameters", what, a.Name)
		}
		if err := checkIterations(iter, what); err != nil {
			return a, err
		}
		a.Iterations = int(iter)
		return a, nil
	}
	if !oid.Equal(oidPBES2) {
		return a, nil // unknown: reported by OID, the decoder will refuse it
	}
	var p cryptobyte.String
	if !params.ReadASN1(&p, cbasn1.SEQUENCE) {
		return a, fmt.Errorf("PKCS#12: %s: malformed PBES2 parameters", what)
	}
	kdf, kdfParams, ok := readAlgID(&p)
	if !ok {
		return a, fmt.Errorf("PKCS#12: %s: malformed PBES2 key derivation function", what)
	}
	enc, _, ok := readAlgID(&p)
	if !ok {
		return a, fmt.Errorf("PKCS#12: %s: malformed PBES2 encryption scheme", what)
	}
	a.Cipher = cipherNames[enc.String()]
	cipher := a.Cipher
	if cipher == "" {
		cipher = enc.String()
	}
	if !kdf.Equal(oidPBKDF2) {
		a.Name = fmt.Sprintf("PBES2 %s %s", kdf, cipher)
		return a, nil
	}
	iter, prf, ok := readPBKDF2(kdfParams)
	if !ok {
		return a, fmt.Errorf("PKCS#12: %s: malformed PBKDF2 parameters", what)
	}
	if err := checkIterations(iter, what); err != nil {
		return a, err
	}
	a.Iterations = int(iter)
	a.Name = fmt.Sprintf("PBES2 PBKDF2-%s %s", prf, cipher)
	return a, nil
}

// ParsePFXInfo reads the protection of a PFX without the password: the MAC
// algorithm and, per ContentInfo of the AuthenticatedSafe, the encryption
// algorithm or the bags in clear with the algorithms of shrouded key bags.
// It also refuses malformed structures and iteration counts above
// MaxPFXIterations before any key derivation runs.
func ParsePFXInfo(der []byte) (*PFXInfo, error) {
	s := cryptobyte.String(der)
	var pfx, authSafe, content, safeOctets cryptobyte.String
	var version int64
	var ctype asn1.ObjectIdentifier
	if !s.ReadASN1(&pfx, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("PKCS#12: malformed PFX%s", berHint(der))
	}
	if !s.Empty() {
		return nil, errors.New("PKCS#12: trailing data after the PFX")
	}
	if !pfx.ReadASN1Integer(&version) {
		return nil, errors.New("PKCS#12: malformed version")
	}
	if version != 3 {
		return nil, fmt.Errorf("PKCS#12: version %d, want 3", version)
	}
	if !pfx.ReadASN1(&authSafe, cbasn1.SEQUENCE) || !authSafe.ReadASN1ObjectIdentifier(&ctype) {
		return nil, errors.New("PKCS#12: malformed authSafe")
	}
	if !ctype.Equal(oidData) {
		return nil, fmt.Errorf("PKCS#12: authSafe content type %s: only password integrity (data) is supported, not public-key integrity", ctype)
	}
	if !authSafe.ReadASN1(&content, tagExplicit0) || !content.ReadASN1(&safeOctets, cbasn1.OCTET_STRING) {
		return nil, errors.New("PKCS#12: malformed authSafe content (BER constructed OCTET STRING is not supported)")
	}
	info := &PFXInfo{}
	if !pfx.Empty() {
		mac, err := readMacData(&pfx)
		if err != nil {
			return nil, err
		}
		info.MAC = mac
	}
	if !pfx.Empty() {
		return nil, errors.New("PKCS#12: trailing data in the PFX")
	}
	var safes cryptobyte.String
	if !safeOctets.ReadASN1(&safes, cbasn1.SEQUENCE) || !safeOctets.Empty() {
		return nil, errors.New("PKCS#12: malformed AuthenticatedSafe")
	}
	for i := 1; !safes.Empty(); i++ {
		what := fmt.Sprintf("content %d", i)
		var ci, inner cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !safes.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) || !ci.ReadASN1(&inner, tagExplicit0) {
			return nil, fmt.Errorf("PKCS#12: %s: malformed ContentInfo", what)
		}
		switch {
		case oid.Equal(oidData):
			var octets cryptobyte.String
			if !inner.ReadASN1(&octets, cbasn1.OCTET_STRING) {
				return nil, fmt.Errorf("PKCS#12: %s: malformed data", what)
			}
			pc, err := readSafeContents(octets, what, info)
			if err != nil {
				return nil, err
			}
			info.Contents = append(info.Contents, pc)
		case oid.Equal(oidEncryptedData):
			var ed, eci cryptobyte.String
			var v int64
			var ct asn1.ObjectIdentifier
			if !inner.ReadASN1(&ed, cbasn1.SEQUENCE) || !ed.ReadASN1Integer(&v) || !ed.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&ct) {
				return nil, fmt.Errorf("PKCS#12: %s: malformed EncryptedData", what)
			}
			a, err := readPBE(&eci, what)
			if err != nil {
				return nil, err
			}
			info.CertAlgorithms = append(info.CertAlgorithms, a)
			info.Contents = append(info.Contents, PFXContent{Encrypted: true, Algorithm: &a})
		default:
			return nil, fmt.Errorf("PKCS#12: %s: content type %s is not supported (only data and encryptedData)", what, oid)
		}
	}
	return info, nil
}

func readMacData(s *cryptobyte.String) (*PFXMAC, error) {
	var md, di cryptobyte.String
	if !s.ReadASN1(&md, cbasn1.SEQUENCE) || !md.ReadASN1(&di, cbasn1.SEQUENCE) {
		return nil, errors.New("PKCS#12: malformed MacData")
	}
	oid, params, ok := readAlgID(&di)
	if !ok || !di.SkipASN1(cbasn1.OCTET_STRING) || !md.SkipASN1(cbasn1.OCTET_STRING) {
		return nil, errors.New("PKCS#12: malformed MacData digest or salt")
	}
	mac := &PFXMAC{OID: oid.String(), Algorithm: digestNames[oid.String()], Iterations: 1}
	if md.PeekASN1Tag(cbasn1.INTEGER) {
		var iter int64
		if !md.ReadASN1Integer(&iter) {
			return nil, errors.New("PKCS#12: malformed MAC iteration count")
		}
		if err := checkIterations(iter, "MAC"); err != nil {
			return nil, err
		}
		mac.Iterations = int(iter)
	}
	if oid.Equal(oidPBMAC1) {
		var p cryptobyte.String
		if !params.ReadASN1(&p, cbasn1.SEQUENCE) {
			return nil, errors.New("PKCS#12: malformed PBMAC1 parameters")
		}
		kdf, kdfParams, ok1 := readAlgID(&p)
		hm, _, ok2 := readAlgID(&p)
		if !ok1 || !ok2 || !kdf.Equal(oidPBKDF2) {
			return nil, errors.New("PKCS#12: malformed PBMAC1 parameters")
		}
		iter, _, ok := readPBKDF2(kdfParams)
		if !ok {
			return nil, errors.New("PKCS#12: malformed PBMAC1 PBKDF2 parameters")
		}
		if err := checkIterations(iter, "MAC"); err != nil {
			return nil, err
		}
		name := prfNames[hm.String()]
		if name == "" {
			name = hm.String()
		}
		mac.Algorithm, mac.Iterations = "PBMAC1 "+name, int(iter)
	}
	if mac.Algorithm == "" {
		mac.Algorithm = mac.OID
	}
	return mac, nil
}

// readSafeContents lists the bags of a plain content and reads the
// algorithm of each shrouded key bag.
func readSafeContents(octets cryptobyte.String, what string, info *PFXInfo) (PFXContent, error) {
	var pc PFXContent
	var bags cryptobyte.String
	if !octets.ReadASN1(&bags, cbasn1.SEQUENCE) || !octets.Empty() {
		return pc, fmt.Errorf("PKCS#12: %s: malformed SafeContents", what)
	}
	for j := 1; !bags.Empty(); j++ {
		bw := fmt.Sprintf("%s bag %d", what, j)
		var bag, val cryptobyte.String
		var id asn1.ObjectIdentifier
		if !bags.ReadASN1(&bag, cbasn1.SEQUENCE) || !bag.ReadASN1ObjectIdentifier(&id) || !bag.ReadASN1(&val, tagExplicit0) {
			return pc, fmt.Errorf("PKCS#12: %s: malformed SafeBag", bw)
		}
		name := bagNames[id.String()]
		if name == "" {
			name = id.String()
		}
		pc.Bags = append(pc.Bags, name)
		switch name {
		case "pkcs8ShroudedKeyBag":
			var epki cryptobyte.String
			if !val.ReadASN1(&epki, cbasn1.SEQUENCE) {
				return pc, fmt.Errorf("PKCS#12: %s: malformed EncryptedPrivateKeyInfo", bw)
			}
			a, err := readPBE(&epki, bw)
			if err != nil {
				return pc, err
			}
			info.KeyAlgorithms = append(info.KeyAlgorithms, a)
		case "keyBag":
			info.ClearKey = true
		case "certBag":
			info.ClearCerts = true
		}
	}
	return pc, nil
}
