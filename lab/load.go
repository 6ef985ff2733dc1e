package lab

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/layout"
	"github.com/cmgpki/cmgpki/profiles"
)

// Dir is an opened lab directory: its path and its manifest. It holds no
// keys; each loader reads the files when called.
type Dir struct {
	Path     string
	Manifest *Manifest
}

// Open reads DIR/manifest.json. A directory without one gives an error
// wrapping ErrNotLab.
func Open(dir string) (*Dir, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{Path: dir, Manifest: m}, nil
}

// Abs returns a manifest-relative path as a path under the lab.
func (d *Dir) Abs(rel string) string { return filepath.Join(d.Path, filepath.FromSlash(rel)) }

// Entry returns the CA or certificate entry called name, or an error naming
// the lab and the names it has.
func (d *Dir) Entry(name string) (*Entry, error) {
	if e, ok := d.Manifest.Find(name); ok {
		return e, nil
	}
	var names []string
	for _, e := range d.Manifest.All() {
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("lab: %s has no certificate named %q (it has %v)", d.Path, name, names)
}

// Certificate reads the certificate of entry name.
func (d *Dir) Certificate(name string) (*x509.Certificate, error) {
	e, err := d.Entry(name)
	if err != nil {
		return nil, err
	}
	c, err := certio.ReadCertificate(d.Abs(e.Files.Cert))
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %s: %w", d.Path, name, err)
	}
	return c, nil
}

// Chain returns the certificate of entry name followed by the issuing CAs
// up to, not including, the root: what a server presents. It follows the
// manifest's issuer_name links, so it works for CAs and for entries
// without a chain file.
func (d *Dir) Chain(name string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for i := 0; ; i++ {
		e, err := d.Entry(name)
		if err != nil {
			return nil, err
		}
		if i > 0 && e.IssuerName == e.Name {
			return out, nil // the root is not sent
		}
		c, err := d.Certificate(name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if e.IssuerName == e.Name || e.IssuerName == "" {
			return out, nil
		}
		if i > 8 {
			return nil, fmt.Errorf("lab: %s: issuer chain of %s does not end in a root", d.Path, out[0].Subject)
		}
		name = e.IssuerName
	}
}

// Roots returns the self-signed CAs of the lab (the clients' trusted roots).
func (d *Dir) Roots() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, e := range d.Manifest.CAs {
		if e.IssuerName != e.Name {
			continue
		}
		c, err := d.Certificate(e.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Key reads the private key of entry name; password decrypts an encrypted
// key file (keys_encrypted), nil for plain ones.
func (d *Dir) Key(name string, password []byte) (crypto.Signer, error) {
	e, err := d.Entry(name)
	if err != nil {
		return nil, err
	}
	k, err := certio.ReadKey(d.Abs(e.Files.Key), password)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %s: %w", d.Path, name, err)
	}
	return k, nil
}

// TLSCertificate returns entry name as a tls.Certificate: its chain (leaf
// and intermediates, no root), its key and the parsed leaf.
func (d *Dir) TLSCertificate(name string, password []byte) (tls.Certificate, error) {
	chain, err := d.Chain(name)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := d.Key(name, password)
	if err != nil {
		return tls.Certificate{}, err
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

// Issuer is one CA of the lab as the revocation server needs it: the same
// fields as crl.Issuer, so crl.Issuer(i) converts it.
type Issuer struct {
	Name   string            // CA name, as in the manifest and the URLs
	Cert   *x509.Certificate // the CA certificate
	Signer crypto.Signer     // the CA key
	// CRLURL is the CDP of the certificates this CA issues (layout.For).
	CRLURL string
	// OCSPCert and OCSPSigner are the lab's ocsp-signer issued by this CA,
	// nil when it has none (the CA then signs its own responses).
	OCSPCert   *x509.Certificate
	OCSPSigner crypto.Signer
}

// Issuers loads every CA of the lab, in manifest order, with its key
// (password decrypts encrypted keys) and its delegated OCSP responder when
// the lab has an ocsp-signer issued by it (the last one listed wins).
func (d *Dir) Issuers(password []byte) ([]Issuer, error) {
	var out []Issuer
	for _, e := range d.Manifest.CAs {
		cert, err := d.Certificate(e.Name)
		if err != nil {
			return nil, err
		}
		key, err := d.Key(e.Name, password)
		if err != nil {
			return nil, err
		}
		iss := Issuer{Name: e.Name, Cert: cert, Signer: key, CRLURL: layout.For(d.Manifest.BaseURL, e.Name).CRL}
		for _, c := range d.Manifest.Certificates {
			if c.Role != string(profiles.OCSPSigner) || c.IssuerName != e.Name {
				continue
			}
			if iss.OCSPCert, err = d.Certificate(c.Name); err != nil {
				return nil, err
			}
			if iss.OCSPSigner, err = d.Key(c.Name, password); err != nil {
				return nil, err
			}
		}
		out = append(out, iss)
	}
	return out, nil
}
