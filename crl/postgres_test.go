package crl

import (
	"context"
	"errors"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/pgtest"
)

// postgresForTest opens a PostgresStore on a fresh database of the shared
// test cluster, or returns nil when PostgreSQL is not installed (outside
// CI: under CI pgtest fails the test).
func postgresForTest(t *testing.T) *PostgresStore {
	t.Helper()
	if pgtest.BinDir() == "" && os.Getenv("CI") == "" {
		return nil
	}
	c := pgtest.Shared(t)
	s, err := OpenPostgres(context.Background(), c.DSN(c.NewDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pgDB(t *testing.T) (*pgtest.Cluster, string) {
	t.Helper()
	c := pgtest.Shared(t)
	return c, c.DSN(c.NewDB(t))
}

// pgPair opens two stores on one new database, as two serve instances
// would; both close when the test ends.
func pgPair(t *testing.T) (a, b *PostgresStore) {
	t.Helper()
	_, dsn := pgDB(t)
	for _, s := range []**PostgresStore{&a, &b} {
		st, err := OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		*s = st
	}
	return a, b
}

// TestPostgresNewerSchemaRefused: a database written by a newer cmgpki is
// refused, and an open of a current one migrates nothing.
func TestPostgresNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	c, dsn := pgDB(t)
	s, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
	if err := c.Exec(db, `UPDATE cmgpki_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	_, err = OpenPostgres(ctx, dsn)
	if err == nil || !strings.Contains(err.Error(), "schema version 99, newer") {
		t.Fatalf("newer database: %v", err)
	}
	if strings.Contains(err.Error(), pgtest.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestPostgresConcurrentFirstOpen: instances starting together migrate the
// schema once (advisory lock) and all work.
func TestPostgresConcurrentFirstOpen(t *testing.T) {
	ctx := context.Background()
	_, dsn := pgDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := OpenPostgres(ctx, dsn)
			if err == nil {
				_, err = s.Generation(ctx)
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPostgresInstancesAgree: two stores (as two serve instances) on one
// database: CRL numbers strictly increase across both, concurrent revokes
// all land with distinct generations, and only one holds the signing lock
// until it lets go.
func TestPostgresInstancesAgree(t *testing.T) {
	ctx := context.Background()
	a, b := pgPair(t)
	const n = 30
	var recs []Record
	for i := 1; i <= n; i++ {
		recs = append(recs, Record{Issuer: "issuing-ca", Serial: big.NewInt(int64(i)), Subject: "CN=x", Role: "pki-client", NotAfter: t0.Add(time.Hour)})
	}
	if err := a.RecordBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := b.RecordBatch(ctx, recs); err != nil { // known: no-op
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			s := a
			if i%2 == 0 {
				s = b
			}
			if _, _, err := s.Revoke(ctx, "", big.NewInt(int64(i)), t0, ocsp.Superseded); err != nil {
				t.Error(err)
			}
			num, err := s.NextCRLNumber(ctx, "issuing-ca")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if seen[num.String()] {
				t.Errorf("CRL number %s handed out twice", num)
			}
			seen[num.String()] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	rev, _ := b.Revoked(ctx, "issuing-ca", t0)
	if len(rev) != n {
		t.Errorf("%d revoked, want %d", len(rev), n)
	}
	all, _ := a.All(ctx, "issuing-ca")
	gens := map[int64]bool{}
	for _, r := range all {
		if gens[r.Gen] {
			t.Errorf("two revocations share generation %d", r.Gen)
		}
		gens[r.Gen] = true
	}
	okA, err := a.TrySigning(ctx)
	if err != nil || !okA {
		t.Fatalf("first instance did not get the signing lock: %t %v", okA, err)
	}
	if ok, _ := a.TrySigning(ctx); !ok {
		t.Error("the holder lost the signing lock on asking again")
	}
	if ok, _ := b.TrySigning(ctx); ok {
		t.Fatal("both instances hold the signing lock")
	}
	a.ReleaseSigning()
	if ok, _ := b.TrySigning(ctx); !ok {
		t.Error("the lock was not free after its holder let go")
	}
}

// TestPostgresWatchWakes: a change through one store wakes a watcher of
// another within a second.
func TestPostgresWatchWakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, dsn := pgDB(t)
	a, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Record(ctx, Record{Issuer: "issuing-ca", Serial: big.NewInt(7), Subject: "CN=x", Role: "pki-client", NotAfter: t0.Add(time.Hour)})
	wake := make(chan struct{}, 1)
	up := make(chan bool, 4)
	go b.Watch(ctx, wake, 100*time.Millisecond, func(ok bool, _ error) { up <- ok })
	if !<-up {
		t.Fatal("watcher did not connect")
	}
	select { // the wake-up sent on connecting
	case <-wake:
	case <-time.After(time.Second):
		t.Fatal("no wake-up on connecting")
	}
	start := time.Now()
	if _, _, err := a.Revoke(ctx, "", big.NewInt(7), t0, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
		t.Logf("notified after %s", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("a revocation through another store was not announced within 1 s")
	}
}

// TestPostgresUnavailable: with the database gone, calls fail with an error
// IsUnavailable recognises, and the store works again once it is back.
func TestPostgresUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private cluster")
	}
	ctx := context.Background()
	c := pgtest.New(t)
	s, err := OpenPostgres(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Generation(ctx)
	if err == nil || !IsUnavailable(err) {
		t.Fatalf("database stopped: %v (unavailable %t)", err, IsUnavailable(err))
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var g int64
	for i := 0; i < 50; i++ {
		if g, err = s.Generation(ctx); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("store did not recover: %v", err)
	}
	_ = g
	if errors.Is(err, ErrNotFound) {
		t.Fatal("unreachable")
	}
}

// TestPostgresOneSignerOthersAdopt: two updaters (two serve instances) on
// one database with MaySign from the signing lock: after the lock is taken,
// only its holder signs; the other serves the holder's CRL, and no CRL
// number is drawn by the instance that may not sign.
func TestPostgresOneSignerOthersAdopt(t *testing.T) {
	ctx := context.Background()
	a, b := pgPair(t)
	fx := newFixture(t, "", a, &labSpecNoLeaves)
	may := func(s *PostgresStore) func(context.Context) bool {
		return func(ctx context.Context) bool { ok, err := s.TrySigning(ctx); return ok && err == nil }
	}
	ua := &Updater{Store: a, Clock: fx.clk, Issuers: fx.issuers, MaySign: may(a)}
	ub := &Updater{Store: b, Clock: fx.clk, Issuers: fx.issuers, MaySign: may(b)}
	if _, err := ua.RunOnce(ctx); err != nil { // no CRL yet: signs without the lock
		t.Fatal(err)
	}
	if _, err := ub.RunOnce(ctx); err != nil { // adopts
		t.Fatal(err)
	}
	if ok, _ := a.TrySigning(ctx); !ok {
		t.Fatal("instance a did not get the signing lock")
	}
	number := func(u *Updater) int64 {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.current["issuing-ca"].Number.Int64()
	}
	n0 := number(ua)
	if number(ub) != n0 {
		t.Fatalf("instances serve CRL %d and %d", n0, number(ub))
	}
	serial := fx.cert(t, "mp-https").SerialNumber
	if _, _, err := b.Revoke(ctx, "issuing-ca", serial, fx.clk.Now(), ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if made, err := ub.RunOnce(ctx); err != nil || len(made) != 0 {
		t.Fatalf("the instance without the lock signed: %d CRLs, %v", len(made), err)
	}
	if _, err := ua.RunOnce(ctx); err != nil { // the holder signs
		t.Fatal(err)
	}
	if _, err := ub.RunOnce(ctx); err != nil { // the other adopts it
		t.Fatal(err)
	}
	if na, nb := number(ua), number(ub); na != nb || na <= n0 {
		t.Errorf("after the revocation: a serves %d, b %d (before %d)", na, nb, n0)
	}
	if next, _ := a.NextCRLNumber(ctx, "issuing-ca"); next.Int64() != number(ua)+1 {
		t.Errorf("next CRL number %v: the instance without the lock drew numbers (serving %d)", next, number(ua))
	}
}
