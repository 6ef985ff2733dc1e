package ca

import (
	gocrypto "crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/profiles"
)

// labWriter holds what every step of CreateLab shares.
type labWriter struct {
	dir         string
	opts        LabOptions
	x           *Expanded
	pfxPassword string

	randMu sync.Mutex // opts.Rand need not be safe for concurrent use
	progMu sync.Mutex
	last   map[string]int
}

func (w *labWriter) read(p []byte) error {
	w.randMu.Lock()
	defer w.randMu.Unlock()
	_, err := io.ReadFull(w.opts.Rand, p)
	return err
}

type lockedReader struct{ w *labWriter }

func (l lockedReader) Read(p []byte) (int, error) {
	if err := l.w.read(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// password returns the PFX password: the given one or 24 random characters.
func (w *labWriter) password() (string, error) {
	if w.opts.PFXPassword != "" {
		return w.opts.PFXPassword, nil
	}
	// 24 characters from 57 unambiguous ones (about 140 bits), by rejection
	// sampling so every character is equally likely.
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, 24)
	var b [32]byte
	for len(out) < 24 {
		if err := w.read(b[:]); err != nil {
			return "", fmt.Errorf("ca: generating PFX password: %w", err)
		}
		for _, c := range b {
			if int(c) < limit && len(out) < 24 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func (w *labWriter) serial(name, role string) (*big.Int, error) {
	if w.opts.Reproducible {
		return DerivedSerial(w.x.Domain, name, role), nil
	}
	return RandomSerial(lockedReader{w})
}

func (w *labWriter) guid(parts ...string) (string, error) {
	var g [16]byte
	if w.opts.Reproducible {
		_, _ = newDetReader(append([]string{"guid", w.x.Domain}, parts...)...).Read(g[:])
	} else if err := w.read(g[:]); err != nil {
		return "", fmt.Errorf("ca: reading GUID randomness: %w", err)
	}
	g[7] = g[7]&0x0f | 0x40 // version 4 (byte 7 is the high byte of group 3 in mixed-endian order)
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return profiles.FormatGUID(g), nil
}

// wpjIdentity makes the device, user and domain GUIDs of a device. The
// invocation and domain IDs are one per lab, as they are per domain
// controller and domain in a real tenant.
func (w *labWriter) wpjIdentity(c CertSpec) (*profiles.WPJIdentity, error) {
	id := &profiles.WPJIdentity{DeviceID: c.CN, JoinType: '1'}
	for _, g := range []struct {
		dst   *string
		parts []string
	}{{&id.InvocationID, []string{"invocation"}}, {&id.UserID, []string{"user", c.Name}}, {&id.DomainID, []string{"domain"}}, {&id.DeviceID, []string{"device", c.Name}}} {
		if *g.dst != "" {
			continue // a device ID given as the CN
		}
		v, err := w.guid(g.parts...)
		if err != nil {
			return nil, err
		}
		*g.dst = v
	}
	return id, nil
}

func (w *labWriter) progress(what string, n, total int) {
	if w.opts.Progress == nil || total < 20 {
		return
	}
	w.progMu.Lock()
	defer w.progMu.Unlock()
	if w.last == nil {
		w.last = map[string]int{}
	}
	step := max(total/10, 1)
	if n == total || n-w.last[what] >= step {
		w.last[what] = n
		fmt.Fprintf(w.opts.Progress, "Progress: %s %d/%d\n", what, n, total)
	}
}

func (w *labWriter) writeCA(a *Authority, issuerName string, kt profiles.KeyType) (lab.Entry, error) {
	f := lab.Files{
		Cert: filepath.ToSlash(filepath.Join("ca", a.Name+".crt")),
		DER:  filepath.ToSlash(filepath.Join("ca", a.Name+".cer")),
		Key:  filepath.ToSlash(filepath.Join("ca", a.Name+".key")),
	}
	if len(a.Parents) > 0 {
		f.Chain = filepath.ToSlash(filepath.Join("ca", a.Name+".chain.pem"))
	}
	if err := w.writeFiles(f, a.Cert, a.Parents, a.Signer, "", a.Name); err != nil {
		return lab.Entry{}, fmt.Errorf("ca: writing %s: %w", a.Name, err)
	}
	return lab.NewEntry(a.Name, string(a.Role), issuerName, string(kt), a.Cert, f), nil
}

func (w *labWriter) writeLeaf(a *Authority, j *job, cert *x509.Certificate) (lab.Entry, error) {
	n := j.spec.Name
	f := lab.Files{
		Cert:  "certs/" + n + ".crt",
		Chain: "certs/" + n + ".chain.pem",
		DER:   "certs/" + n + ".cer",
		Key:   "certs/" + n + ".key",
	}
	format := ""
	if MustRecipe(j.spec.profile.Role).PFX.Needed {
		f.PFX = "certs/" + n + ".pfx"
		format = j.spec.PFXFormat
	}
	if err := w.writeFiles(f, cert, a.Chain(), j.key, format, n); err != nil {
		return lab.Entry{}, fmt.Errorf("ca: writing %s: %w", n, err)
	}
	e := lab.NewEntry(n, j.spec.Profile, a.Name, string(j.spec.keyType), cert, f)
	e.PFXFormat = format
	return e, nil
}

// writeFiles writes the PEM, chain, DER, key and PFX of one certificate.
// chain holds the certificates above cert, root last. The chain PEM holds
// cert and the intermediates (not the root); the PFX holds the full chain.
func (w *labWriter) writeFiles(f lab.Files, cert *x509.Certificate, chain []*x509.Certificate, key gocrypto.Signer, pfxFormat string, seed string) error {
	if err := w.writeFile(f.Cert, certio.CertPEM(cert), 0o644); err != nil {
		return err
	}
	if err := w.writeFile(f.DER, cert.Raw, 0o644); err != nil {
		return err
	}
	if f.Chain != "" {
		pem := certio.CertPEM(append([]*x509.Certificate{cert}, intermediates(chain)...)...)
		if err := w.writeFile(f.Chain, pem, 0o644); err != nil {
			return err
		}
	}
	keyPEM, err := certio.KeyPEM(lockedReader{w}, key, w.opts.KeyPassword)
	if err != nil {
		return err
	}
	if err := w.writeFile(f.Key, keyPEM, 0o600); err != nil {
		return err
	}
	if f.PFX != "" {
		var r io.Reader = rand.Reader
		if w.opts.Reproducible && w.opts.PFXPassword != "" {
			r = newDetReader("pfx", w.x.Domain, seed)
		}
		pfx, err := certio.EncodePFX(r, certio.PFXFormat(pfxFormat), key, cert, chain, w.pfxPassword)
		if err != nil {
			return err
		}
		if err := w.writeFile(f.PFX, pfx, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// writeFile creates a new file under the writer's private temporary
// directory with perm from the first byte. No per-file rename or fsync: the
// whole directory is renamed into place once complete, which is the atomic
// step.
func (w *labWriter) writeFile(rel string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(filepath.Join(w.dir, filepath.FromSlash(rel)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// intermediates drops the self-signed root from the end of chain.
func intermediates(chain []*x509.Certificate) []*x509.Certificate {
	if n := len(chain); n > 0 && isSelfSigned(chain[n-1]) {
		return chain[:n-1]
	}
	return chain
}

func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject)
}
