package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// Recorder is told of every certificate the CA issues, after its files are in
// place (the revocation store implements it; ca does not import it).
type Recorder interface {
	Record(ctx context.Context, cert *x509.Certificate, issuer string, role profiles.Role) error
}

// PFXPasswordFile is the name of the generated PFX password file.
const PFXPasswordFile = "pfx-password.txt"

// LabOptions controls how a lab is made.
type LabOptions struct {
	// Out is the lab directory; it must not exist unless Force is set.
	Out string
	// Force replaces an existing Out, except one holding CA keys (a CA key is
	// never overwritten; delete the directory yourself).
	Force bool
	// Reproducible derives serials, GUIDs and PFX randomness from the spec
	// and requires NotBefore and Keys.Dir, so two runs give byte-identical
	// PEM and DER files and manifest. Keys are reused, not derived: Go ignores
	// custom randomness in key generation, and RSA PKCS#1 v1.5 signatures are
	// deterministic where ECDSA ones are not.
	Reproducible bool
	Keys         KeyStore
	// NotBefore of every certificate; zero means Clock.Now() less 10 minutes
	// (tolerates a little client clock skew, failure F29).
	NotBefore time.Time
	Clock     clock.Clock
	Rand      io.Reader // serials, GUIDs, passwords, salts; nil means crypto/rand
	// PFXPassword protects every PFX; empty means generate one and write it
	// to pfx-password.txt (0600).
	PFXPassword string
	// KeyPassword, when set, encrypts every private key file (PKCS#8, AES-256).
	KeyPassword []byte
	// Template is an x509util template applied on top of each leaf profile.
	Template string
	Workers  int       // parallelism; 0 means GOMAXPROCS
	Progress io.Writer // progress lines; nil means none
	Recorder Recorder  // told of each issued certificate; may be nil
}

// Lab is an opened lab directory with its CAs loaded.
type Lab struct {
	Dir         string
	Manifest    *Manifest
	Authorities map[string]*Authority
}

// job is one leaf of the lab on its way through key, signature and files.
type job struct {
	spec  CertSpec
	key   crypto.Signer
	cert  *x509.Certificate
	entry Entry
}

// CreateLab makes a whole lab in a temporary directory beside opts.Out and
// renames it into place, so a failure leaves nothing half-written.
func CreateLab(ctx context.Context, spec *LabSpec, opts LabOptions) (*Manifest, error) {
	x, err := spec.Expand()
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Reproducible {
		if opts.NotBefore.IsZero() {
			return nil, &SpecError{Flag: "--not-before", Err: errors.New("--reproducible needs a fixed --not-before (RFC 3339)")}
		}
		if opts.Keys.Dir == "" {
			return nil, &SpecError{Flag: "--keys", Err: errors.New("--reproducible needs --keys DIR to reuse keys")}
		}
	}
	if err := checkOut(opts.Out, opts.Force); err != nil {
		return nil, err
	}
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = opts.Clock.Now().Add(-10 * time.Minute)
	}
	nb = nb.UTC().Truncate(time.Second)
	env := lint.Env{At: nb}

	parent := filepath.Dir(filepath.Clean(opts.Out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("ca: creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, ".cmgpki-lab-*")
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	for _, d := range []string{"ca", "certs"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return nil, err
		}
	}

	w := &labWriter{dir: tmp, opts: opts, x: x}
	if w.pfxPassword, err = w.password(); err != nil {
		return nil, err
	}
	m := &Manifest{Schema: LabSchema, BaseURL: x.BaseURL, KeysEncrypted: len(opts.KeyPassword) > 0,
		CAs: []Entry{}, Certificates: []Entry{}}
	if opts.PFXPassword == "" {
		m.PFXPasswordFile = PFXPasswordFile
		if err := certio.WriteFileAtomic(filepath.Join(tmp, PFXPasswordFile), []byte(w.pfxPassword+"\n"), 0o600); err != nil {
			return nil, err
		}
	}

	// Keys first, in parallel: RSA generation is 97% of the cost.
	type caSpec struct {
		name string
		role profiles.Role
		kt   profiles.KeyType
	}
	caSpecs := []caSpec{{"root-ca", profiles.RootCA, x.CAKeyType}}
	if x.IssuingCA {
		caSpecs = append(caSpecs, caSpec{"issuing-ca", profiles.IssuingCA, x.CAKeyType})
	}
	if x.HasWPJ {
		kt := x.CAKeyType
		if !profiles.MustGet(profiles.WPJCA).AllowsKey(kt) {
			kt = profiles.RSA2048 // Entra's CA is RSA; an EC lab still gets an RSA WPJ CA
		}
		caSpecs = append(caSpecs, caSpec{"wpj-ca", profiles.WPJCA, kt})
	}
	jobs := make([]*job, len(x.Certs))
	for i, c := range x.Certs {
		jobs[i] = &job{spec: c}
	}
	caKeys := make([]crypto.Signer, len(caSpecs))
	nKeys := len(caSpecs) + len(jobs)
	var generated atomic.Int64
	err = parallel(ctx, opts.Workers, nKeys, func(i int) error {
		var name string
		var kt profiles.KeyType
		if i < len(caSpecs) {
			name, kt = caSpecs[i].name, caSpecs[i].kt
		} else {
			name, kt = jobs[i-len(caSpecs)].spec.Name, jobs[i-len(caSpecs)].spec.keyType
		}
		k, _, err := opts.Keys.Get(name, kt)
		if err != nil {
			return fmt.Errorf("ca: key for %s: %w", name, err)
		}
		if i < len(caSpecs) {
			caKeys[i] = k
		} else {
			jobs[i-len(caSpecs)].key = k
		}
		w.progress("keys", int(generated.Add(1)), nKeys)
		return nil
	})
	if err != nil {
		return nil, err
	}

	// CAs, in order: root, issuing (signed by root), WPJ CA.
	auth := map[string]*Authority{}
	for i, cs := range caSpecs {
		p := profiles.MustGet(cs.role)
		serial, err := w.serial(cs.name, string(cs.role))
		if err != nil {
			return nil, err
		}
		req := Request{Profile: p, Serial: serial, NotBefore: nb, PublicKey: caKeys[i].Public()}
		var cert *x509.Certificate
		var issuerName string
		switch cs.role {
		case profiles.RootCA:
			req.CommonName = labCAName(x.Domain, "Lab Root CA")
			cert, err = SelfSign(ctx, req, caKeys[i], env)
			issuerName = cs.name
		case profiles.IssuingCA:
			req.CommonName = labCAName(x.Domain, "Lab Issuing CA")
			cert, err = auth["root-ca"].Issue(ctx, req, env)
			issuerName = "root-ca"
		case profiles.WPJCA:
			req.RawSubject, err = profiles.WPJIssuerRDN("MS-Organization-Access", profiles.WPJCAGUID)
			if err == nil {
				cert, err = SelfSign(ctx, req, caKeys[i], env)
			}
			issuerName = cs.name
		}
		if err != nil {
			return nil, err
		}
		a := &Authority{Name: cs.name, Role: cs.role, Cert: cert, Signer: caKeys[i], BaseURL: x.BaseURL}
		if issuerName != cs.name {
			a.Parents = auth[issuerName].Chain()
		}
		auth[cs.name] = a
		e, err := w.writeCA(a, issuerName, cs.kt)
		if err != nil {
			return nil, err
		}
		m.CAs = append(m.CAs, e)
	}

	// Leaves in parallel: lint, sign, write PEM/DER/key/PFX. File creation
	// blocks in the kernel, so more workers than cores keep the CPUs busy.
	var issued atomic.Int64
	err = parallel(ctx, 4*opts.Workers, len(jobs), func(i int) error {
		j := jobs[i]
		a := auth[j.spec.issuer]
		serial, err := w.serial(j.spec.Name, j.spec.Profile)
		if err != nil {
			return err
		}
		req := Request{Profile: j.spec.profile, CommonName: j.spec.CN, DNSNames: j.spec.SANs,
			PublicKey: j.key.Public(), Serial: serial, NotBefore: nb, UserTemplate: opts.Template}
		if j.spec.Validity > 0 {
			req.NotAfter = nb.Add(j.spec.Validity)
		}
		if j.spec.profile.Role == profiles.WPJDevice {
			id, err := w.wpjIdentity(j.spec)
			if err != nil {
				return err
			}
			req.WPJ, req.CommonName = id, id.DeviceID
		}
		cert, err := a.Issue(ctx, req, env)
		if err != nil {
			return err
		}
		j.cert = cert
		if j.entry, err = w.writeLeaf(a, j, cert); err != nil {
			return err
		}
		w.progress("certificates", int(issued.Add(1)), len(jobs))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		m.Certificates = append(m.Certificates, j.entry)
	}
	if err := syncLabFiles(tmp, m); err != nil {
		return nil, err
	}
	if err := WriteManifest(tmp, m); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, opts.Out, opts.Force); err != nil {
		return nil, err
	}
	done = true
	if opts.Recorder != nil {
		for _, a := range auth {
			if err := opts.Recorder.Record(ctx, a.Cert, issuerOf(m, a.Name), a.Role); err != nil {
				return m, fmt.Errorf("ca: recording %s: %w", a.Name, err)
			}
		}
		for _, j := range jobs {
			if err := opts.Recorder.Record(ctx, j.cert, j.spec.issuer, j.spec.profile.Role); err != nil {
				return m, fmt.Errorf("ca: recording %s: %w", j.spec.Name, err)
			}
		}
	}
	return m, nil
}

func issuerOf(m *Manifest, name string) string {
	if e, ok := m.Find(name); ok {
		return e.IssuerName
	}
	return name
}

func labCAName(domain, what string) string { return domain + " " + what }

// checkOut refuses an existing output directory unless force is set, and
// always refuses one that holds CA keys.
func checkOut(out string, force bool) error {
	if out == "" {
		return &SpecError{Flag: "--out", Err: errors.New("no output directory given")}
	}
	fi, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &SpecError{Flag: "--out", Err: err}
	}
	if !fi.IsDir() {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s exists and is not a directory", out)}
	}
	if keys, _ := filepath.Glob(filepath.Join(out, "ca", "*.key")); len(keys) > 0 {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s holds CA keys (%s); cmgpki never overwrites a CA key, remove the directory yourself to replace it", out, filepath.Base(keys[0]))}
	}
	if !force {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s already exists; pass --force to replace it", out)}
	}
	return nil
}

// replaceDir renames tmp to out, moving an existing out aside first.
func replaceDir(tmp, out string, force bool) error {
	if _, err := os.Stat(out); err == nil {
		if !force {
			return &SpecError{Flag: "--out", Err: fmt.Errorf("%s appeared while the lab was being made", out)}
		}
		old := tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("ca: moving %s aside: %w", out, err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("ca: renaming lab into %s: %w", out, err)
	}
	return nil
}

// parallel runs f(0..n-1) on up to workers goroutines and returns the first
// error (the remaining work is skipped).
func parallel(ctx context.Context, workers, n int, f func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	stop := atomic.Bool{}
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// detReader is a deterministic byte stream: SHA-256 in counter mode over a
// seed. It is used only for reproducible fixtures, never for secrets.
type detReader struct {
	seed [32]byte
	ctr  uint64
	buf  []byte
}

func newDetReader(parts ...string) *detReader {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\x00", len(p), p)
	}
	d := &detReader{}
	copy(d.seed[:], h.Sum(nil))
	return d
}

func (d *detReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(d.buf) == 0 {
			var c [40]byte
			copy(c[:], d.seed[:])
			for i := 0; i < 8; i++ {
				c[32+i] = byte(d.ctr >> (8 * i))
			}
			d.ctr++
			s := sha256.Sum256(c[:])
			d.buf = s[:]
		}
		k := copy(p[n:], d.buf)
		d.buf = d.buf[k:]
		n += k
	}
	return n, nil
}
