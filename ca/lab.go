package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/lab"
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
	// Out is the lab directory; it must not exist, or be an empty directory
	// (filled, not replaced), unless Force is set.
	Out string
	// Force replaces an existing Out, but only a lab made by cmgpki that
	// holds no CA key at any depth and nothing cmgpki did not write (say, a
	// lab whose CA keys were moved away); anything else is refused.
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
	// Notes is told, before anything is made, of each setting that does not
	// apply to every certificate (Expanded.Notes); nil means none.
	Notes    func(note string)
	Recorder Recorder // told of each issued certificate; may be nil
}

// Lab is an opened lab directory with its CAs loaded.
type Lab struct {
	Dir         string
	Manifest    *lab.Manifest
	Authorities map[string]*Authority
}

// job is one leaf of the lab on its way through key, signature and files.
type job struct {
	spec  CertSpec
	key   crypto.Signer
	cert  *x509.Certificate
	entry lab.Entry
}

// CreateLab makes a whole lab in a temporary directory beside opts.Out and
// renames it into place, so a failure leaves nothing half-written.
func CreateLab(ctx context.Context, spec *LabSpec, opts LabOptions) (*lab.Manifest, error) {
	x, err := spec.Expand()
	if err != nil {
		return nil, err
	}
	if opts.Notes != nil {
		for _, n := range x.Notes {
			opts.Notes(n)
		}
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
	for _, c := range x.Certs {
		// A CA's notAfter is its notBefore (nb) plus its profile's validity.
		role := map[string]profiles.Role{"root-ca": profiles.RootCA, "issuing-ca": profiles.IssuingCA, "wpj-ca": profiles.WPJCA}[c.issuer]
		if err := x.checkValidity(spec, c, nb, c.issuer, nb.Add(MustRecipe(role).Validity)); err != nil {
			return nil, err
		}
	}

	// The lab is made beside --out; errors name --out, not the temporary path.
	parent := filepath.Dir(filepath.Clean(opts.Out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("ca: --out %s: creating its parent directory: %w", opts.Out, pathErr(err))
	}
	tmp, err := os.MkdirTemp(parent, ".cmgpki-lab-*")
	if err != nil {
		return nil, fmt.Errorf("ca: --out %s: cannot create the lab in %s: %w", opts.Out, parent, pathErr(err))
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
	m := &lab.Manifest{Schema: lab.Schema, BaseURL: x.BaseURL, KeysEncrypted: len(opts.KeyPassword) > 0,
		CAs: []lab.Entry{}, Certificates: []lab.Entry{}}
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
		var findings []lint.Result
		var issuerName string
		switch cs.role {
		case profiles.RootCA:
			req.CommonName = labCAName(x.Domain, "Lab Root CA")
			cert, findings, err = SelfSignFindings(ctx, req, caKeys[i], env)
			issuerName = cs.name
		case profiles.IssuingCA:
			req.CommonName = labCAName(x.Domain, "Lab Issuing CA")
			cert, findings, err = auth["root-ca"].IssueFindings(ctx, req, env)
			issuerName = "root-ca"
		case profiles.WPJCA:
			req.RawSubject, err = profiles.WPJIssuerRDN("MS-Organization-Access", profiles.WPJCAGUID)
			if err == nil {
				cert, findings, err = SelfSignFindings(ctx, req, caKeys[i], env)
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
		e.Findings = findings
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
		cert, findings, err := a.IssueFindings(ctx, req, env)
		if err != nil {
			return err
		}
		j.cert = cert
		if j.entry, err = w.writeLeaf(a, j, cert); err != nil {
			return err
		}
		j.entry.Findings = findings
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
	if err := lab.WriteManifest(tmp, m); err != nil {
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

// pathErr drops the operation and path of a *fs.PathError, which would name
// a temporary path the user never gave.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func issuerOf(m *lab.Manifest, name string) string {
	if e, ok := m.Find(name); ok {
		return e.IssuerName
	}
	return name
}

func labCAName(domain, what string) string { return domain + " " + what }

// checkOut refuses an existing output directory unless force is set and
// the directory may be replaced (see replaceable).
func checkOut(out string, force bool) error {
	if out == "" {
		return &SpecError{Flag: "--out", Err: errors.New("no output directory given")}
	}
	if err := notCwd(out); err != nil {
		return err
	}
	if _, err := os.Lstat(out); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return &SpecError{Flag: "--out", Err: err}
	}
	if emptyDir(out) {
		return nil // filled, not replaced: nothing to destroy
	}
	if !force {
		if caKey, _, err := scanForCAKeys(out); err == nil && caKey != "" {
			if _, err := lab.ReadManifest(out); err == nil {
				return &SpecError{Flag: "--out", Err: fmt.Errorf("%s already exists (a cmgpki lab with CA keys); choose another --out (--force never replaces a directory that holds a CA key)", out)}
			}
			return &SpecError{Flag: "--out", Err: fmt.Errorf("%s already exists and holds a CA key (%s); choose another --out (--force never replaces a directory that holds a CA key)", out, caKey)}
		}
	}
	if err := replaceable(out); err != nil {
		return &SpecError{Flag: "--out", Err: err}
	}
	if !force {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s already exists; pass --force to replace it", out)}
	}
	return nil
}

// emptyDir reports whether dir is a real directory (not a symbolic link)
// with nothing in it.
func emptyDir(dir string) bool {
	fi, err := os.Lstat(filepath.Clean(dir))
	if err != nil || !fi.IsDir() {
		return false
	}
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && errors.Is(err, io.EOF)
}

// notCwd refuses an --out that is the current directory or one of its
// parents: it cannot be renamed or replaced while the process works in it.
func notCwd(out string) error {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil
	}
	rel, err := filepath.Rel(abs, wd)
	if err == nil && (rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("--out %s cannot be the current directory or contain it; give a new directory, such as %s", out, filepath.Join(out, "cmg-lab"))}
	}
	return nil
}

// replaceable reports why --force must not replace dir, or nil. Only a lab
// made by cmgpki whose CA keys are gone may be replaced: dir must be a real
// directory (not a symbolic link) with a manifest.json of the lab schema,
// hold no CA key at any depth (a *.key file in any directory named "ca", or
// a CA key file named by any manifest.json below dir), and hold nothing but
// the files cmgpki writes into a lab. cmgpki never deletes what it did not
// make, nor a CA key.
func replaceable(dir string) error {
	dir = filepath.Clean(dir) // "link/" would follow a symbolic link
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; cmgpki replaces only a lab directory it made", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	caKey, other, err := scanForCAKeys(dir)
	if err != nil {
		return fmt.Errorf("inspecting %s: %w", dir, err)
	}
	if caKey != "" {
		return fmt.Errorf("%s holds the CA key %s; cmgpki never overwrites a CA key or deletes one: move the key away or remove the directory yourself", dir, caKey)
	}
	m, err := lab.ReadManifest(dir)
	if errors.Is(err, lab.ErrNotLab) {
		return fmt.Errorf("%s already exists and is not a cmgpki lab: no %s; --force replaces only a lab made by cmgpki", dir, lab.ManifestFile)
	}
	if err != nil {
		return fmt.Errorf("%s already exists and is not a cmgpki lab this version can replace: %w", dir, err)
	}
	known := labFiles(m)
	for _, p := range other {
		rel, _ := filepath.Rel(dir, p)
		if !known[filepath.ToSlash(rel)] {
			return fmt.Errorf("%s holds %s, which cmgpki did not make; --force replaces only a lab made by cmgpki, so move it away first", dir, p)
		}
	}
	return nil
}

// scanForCAKeys walks dir without following symbolic links and returns the
// first CA key found (any *.key file in a directory named "ca", or any CA
// key a manifest.json at any depth names, that exists inside dir) and every
// other path below dir.
func scanForCAKeys(dir string) (caKey string, paths []string, err error) {
	root := filepath.Clean(dir)
	inside := func(p string) bool {
		rel, err := filepath.Rel(root, p)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		paths = append(paths, p)
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".key") && filepath.Base(filepath.Dir(p)) == "ca" {
			caKey = p
			return filepath.SkipAll
		}
		if d.Type().IsRegular() && d.Name() == lab.ManifestFile {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var m struct {
				CAs []struct {
					Files struct {
						Key string `json:"key"`
					} `json:"files"`
				} `json:"cas"`
			}
			if json.Unmarshal(b, &m) != nil {
				return nil // not a manifest: the *.key rule still applies
			}
			for _, e := range m.CAs {
				if e.Files.Key == "" {
					continue
				}
				k := filepath.Join(filepath.Dir(p), filepath.FromSlash(e.Files.Key))
				if _, err := os.Lstat(k); err == nil && inside(k) {
					caKey = k
					return filepath.SkipAll
				}
			}
		}
		return nil
	})
	return caKey, paths, err
}

// labFiles lists, relative to the lab root and slash-separated, every file
// and directory cmgpki writes into a lab.
func labFiles(m *lab.Manifest) map[string]bool {
	known := map[string]bool{lab.ManifestFile: true, "import-windows.ps1": true, PFXPasswordFile: true,
		"ca": true, "certs": true, "crl": true, revocationStore: true}
	for _, s := range []string{"-wal", "-shm", "-journal"} {
		known[revocationStore+s] = true
	}
	if m.PFXPasswordFile != "" {
		known[path.Clean(m.PFXPasswordFile)] = true
	}
	for _, e := range append(append([]lab.Entry{}, m.CAs...), m.Certificates...) {
		for _, f := range []string{e.Files.Cert, e.Files.Chain, e.Files.DER, e.Files.Key, e.Files.PFX} {
			if f != "" {
				known[path.Clean(f)] = true
			}
		}
	}
	for _, e := range m.CAs {
		known["crl/"+e.Name+".crl"], known["crl/"+e.Name+".pem"] = true, true
	}
	return known
}

// revocationStore is the file name of the lab's revocation store (crl.StoreFile;
// ca does not import crl).
const revocationStore = "revocation.db"

// replaceDir renames tmp to out. With force, an existing out is first
// renamed aside, checked again there (nothing can change it under a name
// only this process knows), and removed only after the new lab is in place;
// on any failure the old directory is put back.
func replaceDir(tmp, out string, force bool) error {
	out = filepath.Clean(out)
	if emptyDir(out) {
		// An empty directory is filled, not replaced. os.Rename onto an
		// existing directory works on Linux only; remove it first instead:
		// os.Remove refuses a directory that is no longer empty.
		if err := os.Remove(out); err != nil {
			return &SpecError{Flag: "--out", Err: fmt.Errorf("%s is no longer empty (%v); nothing was changed", out, pathErr(err))}
		}
	}
	if _, err := os.Lstat(out); err != nil {
		if err := os.Rename(tmp, out); err != nil {
			return fmt.Errorf("ca: renaming lab into %s: %w", out, err)
		}
		return nil
	}
	if !force {
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s appeared while the lab was being made", out)}
	}
	old := tmp + ".old"
	if err := os.Rename(out, old); err != nil {
		return fmt.Errorf("ca: moving %s aside: %w", out, err)
	}
	if err := replaceable(old); err != nil {
		if rerr := os.Rename(old, out); rerr != nil {
			return fmt.Errorf("ca: %s changed while the lab was being made (%v) and could not be put back from %s: %w", out, err, old, rerr)
		}
		return &SpecError{Flag: "--out", Err: fmt.Errorf("%s changed while the lab was being made: %w", out, err)}
	}
	if err := os.Rename(tmp, out); err != nil {
		if rerr := os.Rename(old, out); rerr != nil {
			return fmt.Errorf("ca: renaming lab into %s: %w (and putting the old lab back from %s failed: %v)", out, err, old, rerr)
		}
		return fmt.Errorf("ca: renaming lab into %s: %w", out, err)
	}
	os.RemoveAll(old) // only what replaceable allowed: a lab cmgpki made, without CA keys
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
