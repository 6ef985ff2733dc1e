package ca

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// OpenLab reads a lab directory's manifest and loads its CAs (certificates
// and keys; keyPassword decrypts encrypted keys).
func OpenLab(dir string, keyPassword []byte) (*Lab, error) {
	m, err := lab.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	l := &Lab{Dir: dir, Manifest: m, Authorities: map[string]*Authority{}}
	// Roots first, then CAs whose issuer is loaded (hierarchies are shallow).
	for pass := 0; pass < 4 && len(l.Authorities) < len(m.CAs); pass++ {
		for _, e := range m.CAs {
			if l.Authorities[e.Name] != nil {
				continue
			}
			parent := l.Authorities[e.IssuerName]
			if e.IssuerName != e.Name && parent == nil {
				continue
			}
			cert, err := certio.ReadCertificate(filepath.Join(dir, filepath.FromSlash(e.Files.Cert)))
			if err != nil {
				return nil, fmt.Errorf("ca: lab %s: CA %s: %w", dir, e.Name, err)
			}
			key, err := certio.ReadKey(filepath.Join(dir, filepath.FromSlash(e.Files.Key)), keyPassword)
			if err != nil {
				return nil, fmt.Errorf("ca: lab %s: CA %s: %w", dir, e.Name, err)
			}
			a := &Authority{Name: e.Name, Role: profiles.Role(e.Role), Cert: cert, Signer: key, BaseURL: m.BaseURL}
			if parent != nil {
				a.Parents = parent.Chain()
			}
			l.Authorities[e.Name] = a
		}
	}
	if len(l.Authorities) != len(m.CAs) {
		return nil, fmt.Errorf("ca: lab %s: manifest lists CAs whose issuer is missing", dir)
	}
	return l, nil
}

// IssueOptions controls Lab.Issue.
type IssueOptions struct {
	Issuer      string // CA name; "" picks issuing-ca (or root-ca), wpj-ca for devices
	Force       bool   // replace an existing certificate of the same name
	NotBefore   time.Time
	Clock       clock.Clock
	Rand        io.Reader
	PFXPassword string // "" means the lab's password file
	// PFXPasswordFrom names where PFXPassword came from, for errors
	// ("--pfx-password-file FILE", "CMGPKI_PFX_PASSWORD").
	PFXPasswordFrom string
	KeyPassword     []byte
	Template        string
	Recorder        Recorder
	// Notes is told of each setting that was adjusted and of what the
	// caller should know (a duplicate SAN dropped, a PFX password that
	// could not be checked); nil means none.
	Notes func(note string)
}

// Issue issues one certificate into the lab: files under certs/ and an entry
// in the manifest. The new files are made in a temporary directory inside
// the lab and renamed into place; the manifest is rewritten last.
func (l *Lab) Issue(ctx context.Context, c CertSpec, opts IssueOptions) (*lab.Entry, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	spec := &LabSpec{KeyType: c.KeyType}
	x := &Expanded{Domain: "lab", BaseURL: l.Manifest.BaseURL, IssuingCA: l.Authorities["issuing-ca"] != nil, KeyType: profiles.RSA2048}
	if c.KeyType != "" {
		k, err := profiles.ParseKeyType(c.KeyType)
		if err != nil {
			return nil, &SpecError{Flag: "--key-type", Err: err}
		}
		x.KeyType = k
	}
	if err := x.add(spec, c, "", issueFlags); err != nil {
		return nil, err
	}
	c = x.Certs[0]
	if opts.Issuer != "" {
		c.issuer = opts.Issuer
	}
	a := l.Authorities[c.issuer]
	if a == nil {
		return nil, &SpecError{Flag: "--issuer", Err: fmt.Errorf("lab %s has no CA named %q", l.Dir, c.issuer)}
	}
	if c.profile.Role == profiles.WPJDevice && a.Role != profiles.WPJCA {
		return nil, &SpecError{Flag: "--issuer", Err: fmt.Errorf("wpj-device certificates are issued by the wpj-ca, not %s", a.Name)}
	}
	for _, e := range l.Manifest.CAs {
		if e.Name == c.Name {
			return nil, &SpecError{Flag: "--name", Err: fmt.Errorf("%q is the name of a CA of lab %s; a certificate cannot take a CA's name (a CA is never overwritten): choose another --name", c.Name, l.Dir)}
		}
	}
	if _, exists := l.Manifest.Find(c.Name); exists && !opts.Force {
		return nil, &SpecError{Flag: "--name", Err: fmt.Errorf("lab %s already has a certificate named %q; pass --force to replace it", l.Dir, c.Name)}
	}
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = opts.Clock.Now().Add(-10 * time.Minute)
	}
	nb = nb.UTC().Truncate(time.Second)
	if nb.Before(a.Cert.NotBefore) || !nb.Before(a.Cert.NotAfter) {
		what := "notBefore " + nb.Format(time.RFC3339)
		if opts.NotBefore.IsZero() {
			what += " (the default, now less 10 minutes)"
		}
		return nil, &SpecError{Flag: "--not-before", Err: fmt.Errorf("%s is outside the validity of its issuer %s (%s to %s); give a --not-before in that window",
			what, a.Name, a.Cert.NotBefore.UTC().Format(time.RFC3339), a.Cert.NotAfter.UTC().Format(time.RFC3339))}
	}
	if err := x.checkValidity(spec, c, nb, a.Name, a.Cert.NotAfter); err != nil {
		return nil, err
	}
	pw, err := l.pfxPassword(c, opts)
	if err != nil {
		return nil, err
	}
	if opts.Notes != nil {
		for _, n := range x.Notes {
			opts.Notes(n)
		}
	}

	key, err := GenerateKey(c.keyType)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(l.Dir, ".issue-*")
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "certs"), 0o755); err != nil {
		return nil, err
	}
	w := &labWriter{dir: tmp, opts: LabOptions{Rand: opts.Rand, KeyPassword: opts.KeyPassword, PFXPassword: pw}, x: x, pfxPassword: pw}
	j := &job{spec: c, key: key}
	serial, err := w.serial(c.Name, c.Profile)
	if err != nil {
		return nil, err
	}
	req := Request{Profile: c.profile, CommonName: c.CN, DNSNames: c.SANs, PublicKey: key.Public(),
		Serial: serial, NotBefore: nb, UserTemplate: opts.Template}
	if c.Validity > 0 {
		req.NotAfter = nb.Add(c.Validity)
	}
	if c.profile.Role == profiles.WPJDevice {
		if req.WPJ, err = w.wpjIdentity(c); err != nil {
			return nil, err
		}
		req.CommonName = req.WPJ.DeviceID
	}
	cert, findings, err := a.IssueFindings(ctx, req, lint.Env{At: nb})
	if err != nil {
		return nil, err
	}
	e, err := w.writeLeaf(a, j, cert)
	if err != nil {
		return nil, err
	}
	e.Findings = findings
	for _, rel := range []string{e.Files.Cert, e.Files.Chain, e.Files.DER, e.Files.Key, e.Files.PFX} {
		if rel == "" {
			continue
		}
		if err := os.Rename(filepath.Join(tmp, filepath.FromSlash(rel)), filepath.Join(l.Dir, filepath.FromSlash(rel))); err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
	}
	replaced := false
	for i := range l.Manifest.Certificates {
		if old := l.Manifest.Certificates[i]; old.Name == e.Name {
			// The old certificate stays valid until it expires: keep it
			// revocable (it is not revoked here: it may still be in use
			// until its replacement is deployed).
			l.Manifest.Replaced = append(l.Manifest.Replaced, lab.Replaced{Name: old.Name, Role: old.Role,
				Subject: old.Subject, IssuerName: old.IssuerName, Serial: old.Serial, NotAfter: old.NotAfter,
				ReplacedAt: opts.Clock.Now().UTC().Truncate(time.Second).Format(time.RFC3339)})
			l.Manifest.Certificates[i], replaced = e, true
		}
	}
	if !replaced {
		l.Manifest.Certificates = append(l.Manifest.Certificates, e)
	}
	if err := lab.WriteManifest(l.Dir, l.Manifest); err != nil {
		return nil, err
	}
	if err := syncLabFiles(l.Dir, l.Manifest); err != nil {
		return nil, err
	}
	if opts.Recorder != nil {
		if err := opts.Recorder.Record(ctx, cert, a.Name, c.profile.Role); err != nil {
			return &e, fmt.Errorf("ca: recording %s: %w", e.Name, err)
		}
	}
	return &e, nil
}

// pfxPassword returns the password of the new certificate's PFX: the lab's
// (from its password file), or the one given, which must then equal the
// lab's: every PFX of a lab opens with one password.
func (l *Lab) pfxPassword(c CertSpec, opts IssueOptions) (string, error) {
	if !MustRecipe(c.profile.Role).PFX.Needed {
		return "", nil
	}
	from := opts.PFXPasswordFrom
	if from == "" {
		from = "the PFX password given"
	}
	if l.Manifest.PFXPasswordFile == "" {
		if opts.PFXPassword == "" {
			return "", &SpecError{Flag: "--pfx-password-file", Err: fmt.Errorf("lab %s was made with a password of your own; pass --pfx-password-file or set CMGPKI_PFX_PASSWORD", l.Dir)}
		}
		return opts.PFXPassword, l.checkPFXPassword(opts, from)
	}
	file := filepath.Join(l.Dir, l.Manifest.PFXPasswordFile)
	b, err := certio.ReadSecretFile(file)
	if err != nil {
		return "", fmt.Errorf("ca: lab %s: %w", l.Dir, err)
	}
	if opts.PFXPassword != "" && opts.PFXPassword != string(b) {
		return "", &SpecError{Flag: from, Err: fmt.Errorf("the password differs from the one of lab %s (%s); every PFX of a lab opens with one password: leave it out to use the lab's", l.Dir, file)}
	}
	return string(b), nil
}

// checkPFXPassword checks the password given for a lab made with a
// password of its user (no password file) against a PFX of the lab: every
// PFX of a lab opens with one password. A lab with no PFX yet (ca init
// only) takes the password as its own; Notes says so.
func (l *Lab) checkPFXPassword(opts IssueOptions, from string) error {
	for _, e := range l.Manifest.All() {
		if e.Files.PFX == "" {
			continue
		}
		file := l.AbsPath(e.Files.PFX)
		b, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ca: lab %s: %w", l.Dir, err)
		}
		if _, _, _, err := certio.DecodePFX(b, opts.PFXPassword); err != nil {
			return &SpecError{Flag: from, Err: fmt.Errorf("the password does not open %s, a PFX of lab %s (%v); every PFX of a lab opens with one password: give the lab's", file, l.Dir, err)}
		}
		return nil
	}
	if opts.Notes != nil {
		opts.Notes(fmt.Sprintf("lab %s has no PFX yet, so the password from %s could not be checked; it becomes the lab's: give the same one for every PFX of the lab", l.Dir, from))
	}
	return nil
}

// AbsPath returns a manifest-relative path as a path under the lab.
func (l *Lab) AbsPath(rel string) string { return filepath.Join(l.Dir, filepath.FromSlash(rel)) }
