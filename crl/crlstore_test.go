package crl

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/derutil"
)

// TestStoredCRLContract: the store keeps the latest CRL of each issuer and
// refuses to go back to an older number.
func TestStoredCRLContract(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, ok, err := s.LatestCRL(ctx, "issuing-ca", nil); ok || err != nil {
				t.Fatalf("empty store: ok %t, %v", ok, err)
			}
			if err := s.SaveCRL(ctx, "issuing-ca", StoredCRL{Number: big.NewInt(2), DER: []byte("two"), Gen: 7}); err != nil {
				t.Fatal(err)
			}
			c, ok, err := s.LatestCRL(ctx, "issuing-ca", nil)
			if !ok || err != nil || c.Number.Int64() != 2 || string(c.DER) != "two" || c.Gen != 7 {
				t.Fatalf("LatestCRL = %+v %t %v", c, ok, err)
			}
			if _, ok, _ := s.LatestCRL(ctx, "issuing-ca", big.NewInt(2)); ok {
				t.Error("LatestCRL newer than 2 returned 2")
			}
			if _, ok, _ := s.LatestCRL(ctx, "issuing-ca", big.NewInt(1)); !ok {
				t.Error("LatestCRL newer than 1 returned nothing")
			}
			if _, ok, _ := s.LatestCRL(ctx, "root-ca", nil); ok {
				t.Error("another issuer's CRL was returned")
			}
			for _, n := range []int64{2, 1} {
				if err := s.SaveCRL(ctx, "issuing-ca", StoredCRL{Number: big.NewInt(n), DER: []byte("old")}); !errors.Is(err, ErrStaleCRL) {
					t.Errorf("saving number %d over 2: %v", n, err)
				}
			}
			if err := s.SaveCRL(ctx, "issuing-ca", StoredCRL{Number: big.NewInt(3), DER: []byte("three"), Gen: 9}); err != nil {
				t.Fatal(err)
			}
			if c, _, _ := s.LatestCRL(ctx, "issuing-ca", nil); c.Number.Int64() != 3 || string(c.DER) != "three" || c.Gen != 9 {
				t.Errorf("after saving 3: %+v", c)
			}
		})
	}
}

// TestSQLiteMigratesVersion1: a store written by the previous schema keeps
// its records and gains the CRL table.
func TestSQLiteMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFile)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE certificates (issuer TEXT NOT NULL, serial TEXT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL,
			not_after INTEGER NOT NULL, status INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER NOT NULL DEFAULT 0,
			reason INTEGER NOT NULL DEFAULT 0, gen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (issuer, serial))`,
		`CREATE INDEX certificates_serial ON certificates (serial)`,
		`CREATE INDEX certificates_gen ON certificates (issuer, gen)`,
		`CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
		`INSERT INTO counters (name, value) VALUES ('generation', 1), ('crlnumber/issuing-ca', 5)`,
		`INSERT INTO certificates (issuer, serial, subject, role, not_after, gen) VALUES ('issuing-ca', 'abc', 'CN=a', 'pki-client', 1900000000, 1)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	if v != SchemaVersion || SchemaVersion != 2 {
		t.Errorf("user_version %d after migration, want %d", v, SchemaVersion)
	}
	if r, err := s.Get(ctx, "issuing-ca", big.NewInt(0xabc)); err != nil || r.Subject != "CN=a" {
		t.Errorf("record lost in migration: %+v %v", r, err)
	}
	if n, _ := s.NextCRLNumber(ctx, "issuing-ca"); n.Int64() != 6 {
		t.Errorf("CRL number %v after migration, want 6", n)
	}
	if err := s.SaveCRL(ctx, "issuing-ca", StoredCRL{Number: big.NewInt(6), DER: []byte("x")}); err != nil {
		t.Errorf("SaveCRL after migration: %v", err)
	}
}

// TestUpdatersAgreeThroughTheStore: a CRL signed by another process (the
// crl command, on its own connection to the same store file) is served by
// the running server after its next run: handler, /healthz, the published
// file and the store hold the same number.
func TestUpdatersAgreeThroughTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	serveStore, err := OpenSQLite(ctx, filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer serveStore.Close()
	fx := newFixture(t, "", serveStore, &labSpecNoLeaves)
	srv, h, serveU, _ := fx.server(t)

	crlStore, err := OpenSQLite(ctx, filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer crlStore.Close()
	cmdU := &Updater{Store: crlStore, Clock: fx.clk, Issuers: fx.issuers, SignAll: true, PublishDir: filepath.Join(fx.lab.Dir, "crl")}

	agree := func(want int64) {
		t.Helper()
		if _, err := serveU.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		served, _ := h.CRL("issuing-ca")
		der, _ := os.ReadFile(filepath.Join(fx.lab.Dir, "crl", "issuing-ca.crl"))
		onDisk, _ := derutil.CRLNumber(der)
		resp, err := http.Get(srv.URL + "/crl/issuing-ca.crl")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got, _ := derutil.CRLNumber(body)
		stored, _, _ := serveStore.LatestCRL(ctx, "issuing-ca", nil)
		if served.Number.Int64() != want || onDisk.Int64() != want || got.Int64() != want || stored.Number.Int64() != want {
			t.Errorf("served %v, GET %v, on disk %v, stored %v; want all %d", served.Number, got, onDisk, stored.Number, want)
		}
	}
	agree(1)
	if _, err := cmdU.RunOnce(ctx); err != nil { // cmgpki crl while serve runs
		t.Fatal(err)
	}
	agree(2)
	// A revocation by another process: the server signs the next CRL and
	// writes it.
	client := fx.cert(t, "mp-https")
	if _, _, err := crlStore.Revoke(ctx, "issuing-ca", client.SerialNumber, fx.clk.Now(), ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	agree(3)
	if c, _ := h.CRL("issuing-ca"); c.Entries != 1 {
		t.Errorf("served CRL has %d entries after the revocation, want 1", c.Entries)
	}
	// Nothing changed: a run signs nothing and uses up no number.
	if made, _ := serveU.RunOnce(ctx); len(made) != 0 {
		t.Errorf("an idle run made %d CRLs", len(made))
	}
	agree(3)
}

// racingStore lets another updater sign and save a CRL between this
// updater drawing its CRL number and saving its CRL.
type racingStore struct {
	Store
	once  sync.Once
	other func()
}

func (s *racingStore) NextCRLNumber(ctx context.Context, issuer string) (*big.Int, error) {
	n, err := s.Store.NextCRLNumber(ctx, issuer)
	if issuer == "issuing-ca" {
		s.once.Do(s.other)
	}
	return n, err
}

// TestUpdaterLosesTheRaceServesTheWinner: when another process saves a
// higher-numbered CRL while this one signs, this one serves and publishes
// the winner, not its own older CRL.
func TestUpdaterLosesTheRaceServesTheWinner(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	fx := newFixture(t, "", st, &labSpecNoLeaves)
	pub := filepath.Join(fx.lab.Dir, "crl")
	other := &Updater{Store: st, Clock: fx.clk, Issuers: fx.issuers, SignAll: true, PublishDir: pub}
	h := NewHandler(HandlerConfig{Store: st, Clock: fx.clk, Issuers: fx.issuers})
	u := &Updater{Store: &racingStore{Store: st, other: func() {
		if _, err := other.RunOnce(ctx); err != nil {
			t.Error(err)
		}
	}}, Clock: fx.clk, Issuers: fx.issuers, Handler: h, PublishDir: pub}
	if _, err := u.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	served, _ := h.CRL("issuing-ca")
	der, _ := os.ReadFile(filepath.Join(pub, "issuing-ca.crl"))
	onDisk, _ := derutil.CRLNumber(der)
	stored, _, _ := st.LatestCRL(ctx, "issuing-ca", nil)
	if served.Number.Cmp(onDisk) != 0 || stored.Number.Cmp(onDisk) != 0 || onDisk.Int64() != 2 {
		t.Errorf("served %v, on disk %v, stored %v; want all 2", served.Number, onDisk, stored.Number)
	}
}

// TestRestartedUpdaterDoesNotServeAStaleStoredCRL: a CRL in the store that
// was signed before a revocation it does not list is never served: a
// restarted server (a new Updater) signs a new one first. Nor is one whose
// life is longer than the restarted server's Validity.
func TestRestartedUpdaterDoesNotServeAStaleStoredCRL(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fx := newFixture(t, "", st, nil)
	first := &Updater{Store: st, Clock: fx.clk, Issuers: fx.issuers}
	made, err := first.RunOnce(ctx)
	if err != nil || len(made) == 0 {
		t.Fatalf("first run: %d CRLs, %v", len(made), err)
	}
	// serve stops; a revocation happens; serve starts again.
	leaf := fx.cert(t, "client01")
	if _, _, err := st.Revoke(ctx, "issuing-ca", leaf.SerialNumber, fx.clk.Now(), ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerConfig{Store: st, Clock: fx.clk, Issuers: fx.issuers})
	defer h.Close()
	restarted := &Updater{Store: st, Clock: fx.clk, Issuers: fx.issuers, Handler: h}
	if _, err := restarted.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	served, ok := h.CRL("issuing-ca")
	if !ok {
		t.Fatal("no CRL served for issuing-ca")
	}
	rl, err := x509.ParseRevocationList(served.DER)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, e := range rl.RevokedCertificateEntries {
		listed = listed || e.SerialNumber.Cmp(leaf.SerialNumber) == 0
	}
	if !listed {
		t.Errorf("restarted server serves CRL %v with %d entries, without the serial revoked while it was down", rl.Number, len(rl.RevokedCertificateEntries))
	}

	// A server asked for 24 h CRLs does not serve a stored 7-day one.
	short := &Updater{Store: st, Clock: fx.clk, Issuers: fx.issuers, Handler: h, Validity: 24 * time.Hour}
	if _, err := short.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	served, _ = h.CRL("issuing-ca")
	if life := served.NextUpdate.Sub(served.ThisUpdate); life != 24*time.Hour {
		t.Errorf("served CRL lives %s; the server was asked for 24h", life)
	}
}
