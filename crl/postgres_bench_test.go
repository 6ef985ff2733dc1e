package crl

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pgtest"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

func pgBenchStore(b *testing.B) *PostgresStore {
	b.Helper()
	c := pgtest.Shared(b)
	st, err := OpenPostgres(context.Background(), c.DSN(c.NewDB(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkCRL100kFromPostgres is the whole Generate path: 100,000 revoked
// entries read from PostgreSQL, sorted, signed and checked (target < 1 s).
func BenchmarkCRL100kFromPostgres(b *testing.B) {
	ctx := context.Background()
	st := pgBenchStore(b)
	fx := newFixture(b, "", st, &labSpecNoLeaves)
	var recs []Record
	for i := 0; i < 100000; i++ {
		recs = append(recs, Record{Issuer: "issuing-ca", Serial: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(int64(i)+1), 64), big.NewInt(int64(i)*7919)), Subject: "CN=x", Role: "pki-client", NotAfter: pkitest.At.Add(time.Hour)})
	}
	if err := st.RecordBatch(ctx, recs); err != nil {
		b.Fatal(err)
	}
	if _, err := st.pool.Exec(ctx, `UPDATE certificates SET status = 1, revoked_at = $1, reason = 4 WHERE subject = 'CN=x'`, pkitest.At.Unix()); err != nil {
		b.Fatal(err)
	}
	st.pool.Exec(ctx, `ANALYZE certificates`)
	iss := fx.issuer("issuing-ca")
	b.ResetTimer()
	for b.Loop() {
		c, err := Generate(ctx, st, iss, pkitest.At, time.Hour)
		if err != nil || c.Entries != 100000 {
			b.Fatalf("%v, %d entries", err, c.Entries)
		}
	}
}

// BenchmarkImport1MPostgres records 1,000,000 certificates in one
// RecordBatch (COPY into a temporary table, one INSERT ... ON CONFLICT),
// as openLabStore imports a manifest. Run with -benchtime=1x.
func BenchmarkImport1MPostgres(b *testing.B) {
	ctx := context.Background()
	st := pgBenchStore(b)
	recs := make([]Record, 1000000)
	for i := range recs {
		recs[i] = Record{Issuer: "issuing-ca", Serial: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(int64(i)+1), 64), big.NewInt(int64(i)*7919)), Subject: "CN=device", Role: "pki-client", NotAfter: pkitest.At.Add(time.Hour)}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i > 0 {
			b.StopTimer()
			st.pool.Exec(ctx, `TRUNCATE certificates`)
			b.StartTimer()
		}
		if err := st.RecordBatch(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var n int64
	st.pool.QueryRow(ctx, `SELECT count(*) FROM certificates`).Scan(&n)
	if n != 1000000 {
		b.Fatalf("%d records, want 1000000", n)
	}
	// Importing the same manifest again (every serve start) finds all known.
	start := time.Now()
	if err := st.RecordBatch(ctx, recs); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-reimport")
}
