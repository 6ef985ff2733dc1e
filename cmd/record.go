package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/profiles"
)

// labStore is what the commands need from a store: the contract plus the
// batch import of the manifest.
type labStore interface {
	crl.Store
	RecordBatch(ctx context.Context, rs []crl.Record) error
}

// storeLoc is where a lab's revocation store lives: a SQLite file (the
// default, DIR/revocation.db) or a PostgreSQL database shared by several
// serve instances.
type storeLoc struct {
	path string // SQLite file, or ""
	url  string // postgres:// URL, or ""
}

func (l storeLoc) String() string {
	if l.url != "" {
		return crl.RedactURL(l.url)
	}
	return "sqlite:" + l.path
}

// resolveStore picks the store from --store, else $CMGPKI_STORE, else the
// lab's SQLite file. A password inside a --store URL is refused (it would
// land in shell history and the process list); the password comes from
// PGPASSWORD or ~/.pgpass, or inside $CMGPKI_STORE.
func resolveStore(f *Factory, flag, dir string) (storeLoc, error) {
	v, from := flag, "--store"
	if v == "" && f != nil && f.Getenv != nil {
		v, from = f.Getenv("CMGPKI_STORE"), "$CMGPKI_STORE"
	}
	switch {
	case v == "":
		return storeLoc{path: filepath.Join(dir, crl.StoreFile)}, nil
	case strings.HasPrefix(v, "sqlite:"):
		p := strings.TrimPrefix(v, "sqlite:")
		if p == "" {
			return storeLoc{}, usageErr(fmt.Errorf("%s %q: want sqlite:PATH", from, v))
		}
		return storeLoc{path: p}, nil
	case crl.IsPostgresURL(v):
		u, err := url.Parse(v)
		if err != nil {
			return storeLoc{}, usageErr(fmt.Errorf("%s: %w", from, err))
		}
		if _, has := u.User.Password(); has && from == "--store" {
			return storeLoc{}, usageErr(fmt.Errorf("--store %s: the URL holds a password, which would land in shell history; give it as PGPASSWORD or in ~/.pgpass", u.Redacted()))
		}
		return storeLoc{url: v}, nil
	}
	return storeLoc{}, usageErr(fmt.Errorf("%s %q: want sqlite:PATH, postgres://... or postgresql://...", from, v))
}

// open opens the store, creating it (or its schema) on first use.
func (l storeLoc) open(ctx context.Context) (labStore, error) {
	if l.url == "" {
		return crl.OpenSQLite(ctx, l.path)
	}
	st, err := crl.OpenPostgres(ctx, l.url)
	if err != nil && crl.IsUnavailable(err) {
		return nil, fmt.Errorf("the revocation store is unreachable; nothing was changed: %w", err)
	}
	return st, err
}

// exists reports whether the store may already hold records (a PostgreSQL
// store is assumed to: the database decides).
func (l storeLoc) exists() bool {
	if l.url != "" {
		return true
	}
	_, err := os.Stat(l.path)
	return err == nil
}

// openLabStore opens the lab's revocation store (creating it on first use)
// and imports every certificate of the manifest it does not know yet, so a
// lab made before the store existed, or copied as a fixture, is served too.
func openLabStore(ctx context.Context, dir string, loc storeLoc) (labStore, *lab.Manifest, error) {
	m, err := lab.ReadManifest(dir)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--lab: %w", err))
	}
	st, err := loc.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	recs, err := manifestRecords(dir, m)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	for _, r := range m.Replaced {
		serial, err := crl.ParseSerial(r.Serial)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("%s: replaced certificate %s: %w", filepath.Join(dir, lab.ManifestFile), r.Name, err)
		}
		na, _ := time.Parse(time.RFC3339, r.NotAfter)
		recs = append(recs, crl.Record{Issuer: r.IssuerName, Serial: serial, Subject: r.Subject, Role: r.Role, NotAfter: na})
	}
	if err := st.RecordBatch(ctx, recs); err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, m, nil
}

// manifestRecords lists the store records of a lab's non-root certificates.
func manifestRecords(dir string, m *lab.Manifest) ([]crl.Record, error) {
	var recs []crl.Record
	for _, e := range append(append([]lab.Entry{}, m.CAs...), m.Certificates...) {
		serial, err := crl.ParseSerial(e.Serial)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %s: %w", filepath.Join(dir, lab.ManifestFile), e.Name, err)
		}
		na, _ := time.Parse(time.RFC3339, e.NotAfter)
		if e.IssuerName == e.Name {
			continue // a root is not revoked through a CRL of its own
		}
		recs = append(recs, crl.Record{Issuer: e.IssuerName, Serial: serial, Subject: e.Subject, Role: e.Role, NotAfter: na})
	}
	return recs, nil
}

// labKnowsSerial reports whether serial (under issuer, or any issuer when
// issuer is "") may be in the lab's store: it is a non-root certificate of
// the manifest, or the store already exists (then the store decides: it
// may know certificates recorded by issue). It creates nothing, so a
// revoke of an unknown serial leaves the lab as it was.
func labKnowsSerial(dir string, loc storeLoc, issuer string, serial *big.Int) (bool, error) {
	if loc.exists() {
		return true, nil
	}
	m, err := lab.ReadManifest(dir)
	if err != nil {
		return false, usageErr(fmt.Errorf("--lab: %w", err))
	}
	for _, e := range append(append([]lab.Entry{}, m.CAs...), m.Certificates...) {
		if e.IssuerName == e.Name || (issuer != "" && e.IssuerName != issuer) {
			continue // a root is not revoked through a CRL of its own
		}
		if s, err := crl.ParseSerial(e.Serial); err == nil && s.Cmp(serial) == 0 {
			return true, nil
		}
	}
	for _, r := range m.Replaced { // replaced by issue --force, still valid
		if issuer != "" && r.IssuerName != issuer {
			continue
		}
		if s, err := crl.ParseSerial(r.Serial); err == nil && s.Cmp(serial) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// storeRecorder records issued certificates in an existing lab store.
type storeRecorder struct{ loc storeLoc }

func (r storeRecorder) Record(ctx context.Context, c *x509.Certificate, issuer string, role profiles.Role) error {
	st, err := r.loc.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Record(ctx, crl.Record{Issuer: issuer, Serial: c.SerialNumber, Subject: certio.DN(c.RawSubject), Role: string(role), NotAfter: c.NotAfter})
}

// recorderFor returns a recorder when the lab already has a revocation
// store, so a running `serve` learns of new certificates at once. A lab
// without a store needs none: the store imports the manifest when created.
// --store (storeFlag) or $CMGPKI_STORE selects the store as for revoke, crl
// and serve; an invalid value is a usage error naming where it came from.
func recorderFor(f *Factory, storeFlag, dir string) (ca.Recorder, error) {
	loc, err := resolveStore(f, storeFlag, dir)
	if err != nil {
		return nil, err
	}
	if loc.url == "" {
		if _, err := os.Stat(loc.path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return storeRecorder{loc: loc}, nil
}

// addStoreFlag adds --store to a command that opens the revocation store.
func addStoreFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "store", "", "revocation store: sqlite:PATH (default DIR/revocation.db) or postgres://USER@HOST/DB, password from PGPASSWORD or ~/.pgpass (or $CMGPKI_STORE)")
}

// labIssuers loads every CA of the lab as a crl.Issuer, with its delegated
// OCSP responder when the lab has an ocsp-signer issued by it (lab.Issuers
// does the loading; the conversion is one line). pwFrom names where
// keyPassword came from (see labLoadErr).
func labIssuers(dir string, keyPassword []byte, pwFrom string) ([]crl.Issuer, *lab.Dir, error) {
	ld, err := lab.Open(dir)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--lab: %w", err))
	}
	lis, err := ld.Issuers(keyPassword)
	if err != nil {
		return nil, nil, labLoadErr(dir, pwFrom, err)
	}
	out := make([]crl.Issuer, len(lis))
	for i, x := range lis {
		out[i] = crl.Issuer(x)
	}
	return out, ld, nil
}

// labLoadErr blames a lab whose CAs cannot be loaded on --lab, unless the
// key password is the cause: then on the flag or variable it came from
// (pwFrom, from Factory.secretSource; "" when none was given).
func labLoadErr(dir, pwFrom string, err error) error {
	switch {
	case errors.Is(err, certio.ErrKeyEncrypted):
		return usageErr(fmt.Errorf("--key-password-file: the keys of lab %s are encrypted and no password was given: pass --key-password-file FILE or set $CMGPKI_KEY_PASSWORD (%w)", dir, err))
	case errors.Is(err, certio.ErrKeyPassword):
		if pwFrom == "CMGPKI_KEY_PASSWORD" {
			pwFrom = "$" + pwFrom
		}
		return usageErr(fmt.Errorf("%s: the password does not open the keys of lab %s: %w", pwFrom, dir, err))
	}
	return usageErr(fmt.Errorf("--lab: %w", err))
}
