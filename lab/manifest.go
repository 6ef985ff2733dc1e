package lab

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// Schema is the schema string of manifest.json.
const Schema = "cmgpki/lab/v1"

// ManifestFile is the name of the manifest at the lab root.
const ManifestFile = "manifest.json"

// Manifest is manifest.json: the contract between cmgpki commands and with
// CI consumers. Every path is relative to the lab root.
type Manifest struct {
	Schema          string  `json:"schema"`
	BaseURL         string  `json:"base_url"`
	PFXPasswordFile string  `json:"pfx_password_file,omitempty"`
	KeysEncrypted   bool    `json:"keys_encrypted,omitempty"`
	CAs             []Entry `json:"cas"`
	Certificates    []Entry `json:"certificates"`
	// Replaced lists the certificates "issue --force" replaced: their files
	// are gone, but they stay valid until they expire, so they stay
	// revocable (the revocation store imports them); absent when none.
	Replaced []Replaced `json:"replaced,omitempty"`
}

// Replaced is a certificate replaced by "issue --force": enough to revoke
// it and to put it in a CRL.
type Replaced struct {
	Name       string `json:"name"`
	Role       string `json:"role"`
	Subject    string `json:"subject"`
	IssuerName string `json:"issuer_name"`
	Serial     string `json:"serial"` // lower-case hex
	NotAfter   string `json:"not_after"`
	ReplacedAt string `json:"replaced_at"` // RFC 3339
}

// Entry describes one CA or certificate of the lab.
type Entry struct {
	Name              string   `json:"name"`
	Role              string   `json:"role"`
	Subject           string   `json:"subject"`
	Issuer            string   `json:"issuer"`
	IssuerName        string   `json:"issuer_name"` // name of the issuing CA entry; equal to Name for a root
	DNSNames          []string `json:"dns_names"`
	Serial            string   `json:"serial"` // lower-case hex
	NotBefore         string   `json:"not_before"`
	NotAfter          string   `json:"not_after"`
	KeyType           string   `json:"key_type"`
	SHA1Thumbprint    string   `json:"sha1_thumbprint"`
	SHA256Fingerprint string   `json:"sha256_fingerprint"`
	PFXFormat         string   `json:"pfx_format,omitempty"`
	Files             Files    `json:"files"`
	// Findings are the notices and warnings the profile's lint gave when
	// the certificate was signed (errors are never signed); absent when none.
	Findings []lint.Result `json:"findings,omitempty"`
}

// Files are an entry's files, relative to the lab root.
type Files struct {
	Cert  string `json:"cert"`            // PEM certificate
	Chain string `json:"chain,omitempty"` // PEM: the certificate then its intermediates
	DER   string `json:"der"`             // DER .cer
	Key   string `json:"key"`             // PKCS#8 PEM, 0600
	PFX   string `json:"pfx,omitempty"`   // PKCS#12 with the full chain
}

// NewEntry describes certificate c as the lab entry name (role, issuing CA
// entry issuerName, key type keyType, files f).
func NewEntry(name, role, issuerName, keyType string, c *x509.Certificate, f Files) Entry {
	dns := c.DNSNames
	if dns == nil {
		dns = []string{}
	}
	return Entry{
		Name: name, Role: role, IssuerName: issuerName,
		Subject:           certio.DN(c.RawSubject),
		Issuer:            certio.DN(c.RawIssuer),
		DNSNames:          dns,
		Serial:            fmt.Sprintf("%x", c.SerialNumber),
		NotBefore:         c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:          c.NotAfter.UTC().Format(time.RFC3339),
		KeyType:           keyType,
		SHA1Thumbprint:    certio.SHA1Thumbprint(c),
		SHA256Fingerprint: certio.SHA256Fingerprint(c),
		Files:             f,
	}
}

// All returns the CA entries, then the certificate entries.
func (m *Manifest) All() []Entry {
	return append(append(make([]Entry, 0, len(m.CAs)+len(m.Certificates)), m.CAs...), m.Certificates...)
}

// Find returns the CA or certificate entry called name.
func (m *Manifest) Find(name string) (*Entry, bool) {
	for i := range m.CAs {
		if m.CAs[i].Name == name {
			return &m.CAs[i], true
		}
	}
	for i := range m.Certificates {
		if m.Certificates[i].Name == name {
			return &m.Certificates[i], true
		}
	}
	return nil, false
}

// ErrNotLab is returned (wrapped) when a directory has no manifest.json.
var ErrNotLab = errors.New("not a cmgpki lab directory (no manifest.json)")

// ReadManifest reads and checks DIR/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotLab)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Schema != Schema {
		if strings.HasPrefix(m.Schema, "cmgpki/lab/") {
			return nil, fmt.Errorf("%s: schema %q is newer than this cmgpki understands (%s); upgrade cmgpki", path, m.Schema, Schema)
		}
		return nil, fmt.Errorf("%s: schema is %q; want %q", path, m.Schema, Schema)
	}
	return &m, nil
}

// Marshal renders the manifest as indented JSON with a trailing newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteManifest writes DIR/manifest.json atomically.
func WriteManifest(dir string, m *Manifest) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return certio.WriteFileAtomic(filepath.Join(dir, ManifestFile), b, 0o644)
}
