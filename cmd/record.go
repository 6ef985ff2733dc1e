package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/profiles"
)

// openLabStore opens the lab's revocation store (creating it on first use)
// and imports every certificate of the manifest it does not know yet, so a
// lab made before the store existed, or copied as a fixture, is served too.
func openLabStore(ctx context.Context, dir string) (*crl.SQLiteStore, *lab.Manifest, error) {
	m, err := lab.ReadManifest(dir)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--lab: %w", err))
	}
	st, err := crl.OpenSQLite(ctx, filepath.Join(dir, crl.StoreFile))
	if err != nil {
		return nil, nil, err
	}
	var recs []crl.Record
	for _, e := range append(append([]lab.Entry{}, m.CAs...), m.Certificates...) {
		serial, err := crl.ParseSerial(e.Serial)
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("%s: entry %s: %w", filepath.Join(dir, lab.ManifestFile), e.Name, err)
		}
		na, _ := time.Parse(time.RFC3339, e.NotAfter)
		if e.IssuerName == e.Name {
			continue // a root is not revoked through a CRL of its own
		}
		recs = append(recs, crl.Record{Issuer: e.IssuerName, Serial: serial, Subject: e.Subject, Role: e.Role, NotAfter: na})
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

// labKnowsSerial reports whether serial (under issuer, or any issuer when
// issuer is "") may be in the lab's store: it is a non-root certificate of
// the manifest, or the store already exists (then the store decides: it
// may know certificates recorded by issue). It creates nothing, so a
// revoke of an unknown serial leaves the lab as it was.
func labKnowsSerial(dir, issuer string, serial *big.Int) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, crl.StoreFile)); err == nil {
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
type storeRecorder struct{ dir string }

func (r storeRecorder) Record(ctx context.Context, c *x509.Certificate, issuer string, role profiles.Role) error {
	st, err := crl.OpenSQLite(ctx, filepath.Join(r.dir, crl.StoreFile))
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Record(ctx, crl.Record{Issuer: issuer, Serial: c.SerialNumber, Subject: certio.DN(c.RawSubject), Role: string(role), NotAfter: c.NotAfter})
}

// recorderFor returns a recorder when the lab already has a revocation
// store, so a running `serve` learns of new certificates at once. A lab
// without a store needs none: the store imports the manifest when created.
func recorderFor(_ *Factory, dir string) ca.Recorder {
	if _, err := os.Stat(filepath.Join(dir, crl.StoreFile)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return storeRecorder{dir: dir}
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
