package crl

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func stores(t *testing.T) map[string]Store {
	t.Helper()
	sq, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	m := map[string]Store{"sqlite": sq, "memory": NewMemStore()}
	if pg := postgresForTest(t); pg != nil {
		m["postgres"] = pg
	}
	return m
}

// TestStoreContract runs the same behaviour against every Store.
func TestStoreContract(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := Record{Issuer: "issuing-ca", Serial: big.NewInt(0xabc), Subject: "CN=a", Role: "pki-client", NotAfter: t0.Add(24 * time.Hour)}
			b := Record{Issuer: "issuing-ca", Serial: big.NewInt(0xdef), Subject: "CN=b", Role: "pki-client", NotAfter: t0.Add(-2 * time.Hour)}
			for _, r := range []Record{a, b, a} {
				if err := s.Record(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			g0, _ := s.Generation(ctx)
			s.Record(ctx, a) // known: no change
			if g, _ := s.Generation(ctx); g != g0 {
				t.Errorf("recording a known certificate moved the generation %d -> %d", g0, g)
			}
			if _, err := s.Get(ctx, "", big.NewInt(0x999)); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown serial: %v", err)
			}
			r, already, err := s.Revoke(ctx, "", a.Serial, t0, ocsp.KeyCompromise)
			if err != nil || already || r.Status != Revoked || !r.RevokedAt.Equal(t0) || r.Reason != ocsp.KeyCompromise {
				t.Fatalf("Revoke = %+v %t %v", r, already, err)
			}
			g1, _ := s.Generation(ctx)
			if g1 <= g0 {
				t.Errorf("generation did not move on revoke: %d -> %d", g0, g1)
			}
			if _, already, _ := s.Revoke(ctx, "issuing-ca", a.Serial, t0.Add(time.Hour), ocsp.Superseded); !already {
				t.Error("second revoke is not reported as already revoked")
			}
			if r, _ := s.Get(ctx, "issuing-ca", a.Serial); r.Reason != ocsp.KeyCompromise || !r.RevokedAt.Equal(t0) {
				t.Errorf("second revoke changed the record: %+v", r)
			}
			if g2, _ := s.Generation(ctx); g2 != g1 {
				t.Error("an idempotent revoke moved the generation")
			}
			if _, err := s.Unrevoke(ctx, "", a.Serial); err == nil || !strings.Contains(err.Error(), "only certificateHold") {
				t.Errorf("unrevoke of keyCompromise: %v", err)
			}
			// b is expired for more than an hour: revoked, but not listed.
			s.Revoke(ctx, "", b.Serial, t0, ocsp.CertificateHold)
			rev, _ := s.Revoked(ctx, "issuing-ca", t0)
			if len(rev) != 1 || rev[0].Serial.Cmp(a.Serial) != 0 {
				t.Errorf("Revoked = %+v, want only a", rev)
			}
			ch, _ := s.ChangedSince(ctx, "issuing-ca", g1)
			if len(ch) != 1 || ch[0].Serial.Cmp(b.Serial) != 0 {
				t.Errorf("ChangedSince(%d) = %+v, want only b", g1, ch)
			}
			if r, err := s.Unrevoke(ctx, "", b.Serial); err != nil || r.Status != Good {
				t.Errorf("unrevoke of a hold: %+v %v", r, err)
			}
			n1, _ := s.NextCRLNumber(ctx, "issuing-ca")
			n2, _ := s.NextCRLNumber(ctx, "issuing-ca")
			n3, _ := s.NextCRLNumber(ctx, "root-ca")
			if n2.Cmp(n1) <= 0 || n3.Int64() != 1 {
				t.Errorf("CRL numbers %v %v %v", n1, n2, n3)
			}
			all, _ := s.All(ctx, "issuing-ca")
			if len(all) != 2 {
				t.Errorf("All = %d records", len(all))
			}
		})
	}
}

// TestSQLiteConcurrentWriters: many connections (as separate processes
// would) revoke at once without lock errors, and every revocation lands.
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFile)
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	var recs []Record
	for i := 1; i <= n; i++ {
		recs = append(recs, Record{Issuer: "issuing-ca", Serial: big.NewInt(int64(i)), Subject: "CN=x", Role: "pki-client", NotAfter: t0.Add(time.Hour)})
	}
	if err := s.RecordBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			other, err := OpenSQLite(ctx, path) // its own pool, like another process
			if err != nil {
				errs <- err
				return
			}
			defer other.Close()
			if _, _, err := other.Revoke(ctx, "", big.NewInt(int64(i)), t0, ocsp.Superseded); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent revoke: %v", err)
	}
	rev, _ := s.Revoked(ctx, "issuing-ca", t0)
	if len(rev) != n {
		t.Errorf("%d revoked, want %d", len(rev), n)
	}
}

func TestSQLiteNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFile)
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.db.ExecContext(ctx, "PRAGMA user_version = 99")
	s.Close()
	if _, err := OpenSQLite(ctx, path); err == nil || !strings.Contains(err.Error(), "schema version 99, newer") {
		t.Errorf("newer store: %v", err)
	}
}

func TestParseSerialAndReason(t *testing.T) {
	for _, in := range []string{"0a1b", "0A:1B", "0x0a1b", " 0a 1b "} {
		if s, err := ParseSerial(in); err != nil || s.Int64() != 0xa1b {
			t.Errorf("ParseSerial(%q) = %v, %v", in, s, err)
		}
	}
	for _, bad := range []string{"", "xyz", "-1", "0"} {
		if _, err := ParseSerial(bad); err == nil {
			t.Errorf("ParseSerial(%q) accepted", bad)
		}
	}
	if r, err := ParseReason("KEYCOMPROMISE"); err != nil || r != ocsp.KeyCompromise {
		t.Errorf("ParseReason = %d, %v", r, err)
	}
	if _, err := ParseReason("removeFromCRL"); err == nil {
		t.Error("removeFromCRL accepted as a revocation reason")
	}
}
