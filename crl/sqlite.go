package crl

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// SchemaVersion is the store schema this build writes (PRAGMA user_version).
// Version 2 added the crls table (the latest signed CRL of each issuer); a
// version 1 store is migrated on open.
const SchemaVersion = 2

// StoreFile is the store's file name inside a lab directory.
const StoreFile = "revocation.db"

// SQLiteStore is the embedded Store: one SQLite file in WAL mode, so that
// `cmgpki revoke` in one process and `cmgpki serve` in another work at the
// same time (bbolt's exclusive lock would not allow it). Writers take the
// lock up front (BEGIN IMMEDIATE) and wait up to 10 s for it, so concurrent
// revokes queue instead of failing with SQLITE_BUSY; commits are synchronous
// (FULL), so a revocation reported done survives a crash of any process.
type SQLiteStore struct {
	db   *sql.DB
	path string
}

var _ Store = (*SQLiteStore)(nil)

// OpenSQLite opens (creating if needed) the store at path. A store written by
// a newer schema is refused.
func OpenSQLite(ctx context.Context, path string) (*SQLiteStore, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("crl: opening store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &SQLiteStore{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLiteStore) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("crl: store %s: %w", s.path, err)
	}
	switch {
	case v == SchemaVersion:
		return nil
	case v > SchemaVersion:
		return fmt.Errorf("crl: store %s has schema version %d, newer than this cmgpki understands (%d); upgrade cmgpki", s.path, v, SchemaVersion)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("crl: store %s: %w", s.path, err)
	}
	defer tx.Rollback()
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS certificates (
			issuer     TEXT    NOT NULL,
			serial     TEXT    NOT NULL, -- lower-case hex
			subject    TEXT    NOT NULL,
			role       TEXT    NOT NULL,
			not_after  INTEGER NOT NULL, -- unix seconds
			status     INTEGER NOT NULL DEFAULT 0,
			revoked_at INTEGER NOT NULL DEFAULT 0,
			reason     INTEGER NOT NULL DEFAULT 0,
			gen        INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (issuer, serial))`,
		`CREATE INDEX IF NOT EXISTS certificates_serial ON certificates (serial)`,
		`CREATE INDEX IF NOT EXISTS certificates_gen ON certificates (issuer, gen)`,
		`CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
		`INSERT OR IGNORE INTO counters (name, value) VALUES ('generation', 0)`,
		`CREATE TABLE IF NOT EXISTS crls (
			issuer TEXT    PRIMARY KEY,
			number TEXT    NOT NULL, -- decimal
			gen    INTEGER NOT NULL, -- store generation the CRL covers
			der    BLOB    NOT NULL)`,
		fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion),
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("crl: creating store schema in %s: %w", s.path, err)
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *SQLiteStore) Close() error { return s.db.Close() }

func bumpGen(ctx context.Context, tx *sql.Tx) (int64, error) {
	var g int64
	err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'generation' RETURNING value`).Scan(&g)
	return g, err
}

// Record adds one issued certificate.
func (s *SQLiteStore) Record(ctx context.Context, r Record) error {
	return s.RecordBatch(ctx, []Record{r})
}

// RecordBatch adds issued certificates in one transaction; known ones are
// left as they are.
func (s *SQLiteStore) RecordBatch(ctx context.Context, rs []Record) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("crl: store: %w", err)
	}
	defer tx.Rollback()
	gen, err := bumpGen(ctx, tx)
	if err != nil {
		return fmt.Errorf("crl: store: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO certificates (issuer, serial, subject, role, not_after, gen) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("crl: store: %w", err)
	}
	defer stmt.Close()
	var inserted int64
	for _, r := range rs {
		res, err := stmt.ExecContext(ctx, r.Issuer, SerialHex(r.Serial), r.Subject, r.Role, r.NotAfter.Unix(), gen)
		if err != nil {
			return fmt.Errorf("crl: recording %s %x: %w", r.Issuer, r.Serial, err)
		}
		n, _ := res.RowsAffected()
		inserted += n
	}
	if inserted == 0 {
		return nil // nothing new: leave the generation alone (rollback)
	}
	return tx.Commit()
}

const cols = `issuer, serial, subject, role, not_after, status, revoked_at, reason, gen`

type scanner interface{ Scan(...any) error }

func scanRecord(sc scanner) (Record, error) {
	var r Record
	var serial string
	var notAfter, revokedAt int64
	if err := sc.Scan(&r.Issuer, &serial, &r.Subject, &r.Role, &notAfter, &r.Status, &revokedAt, &r.Reason, &r.Gen); err != nil {
		return r, err
	}
	r.Serial, _ = new(big.Int).SetString(serial, 16)
	r.NotAfter = time.Unix(notAfter, 0).UTC()
	if revokedAt != 0 {
		r.RevokedAt = time.Unix(revokedAt, 0).UTC()
	}
	return r, nil
}

func (s *SQLiteStore) get(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, issuer string, serial *big.Int) (Record, error) {
	query, args := `SELECT `+cols+` FROM certificates WHERE serial = ?`, []any{SerialHex(serial)}
	if issuer != "" {
		query, args = query+` AND issuer = ?`, append(args, issuer)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return Record{}, fmt.Errorf("crl: store: %w", err)
	}
	defer rows.Close()
	var found []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return Record{}, fmt.Errorf("crl: store: %w", err)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return Record{}, fmt.Errorf("crl: store: %w", err)
	}
	return onlyRecord(found, serial)
}

// Get returns one record.
func (s *SQLiteStore) Get(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	return s.get(ctx, s.db, issuer, serial)
}

// Revoke marks a certificate revoked. A certificate on hold may be revoked
// for good; one already revoked for another reason is left as it is.
func (s *SQLiteStore) Revoke(ctx context.Context, issuer string, serial *big.Int, at time.Time, reason int) (Record, bool, error) {
	return s.update(ctx, issuer, serial, func(tx *sql.Tx, r *Record, gen int64) (bool, error) {
		if r.Status == Revoked && !(r.Reason == 6 && reason != 6) {
			return true, nil
		}
		at = at.UTC().Truncate(time.Second)
		_, err := tx.ExecContext(ctx, `UPDATE certificates SET status = 1, revoked_at = ?, reason = ?, gen = ? WHERE issuer = ? AND serial = ?`,
			at.Unix(), reason, gen, r.Issuer, SerialHex(r.Serial))
		r.Status, r.RevokedAt, r.Reason, r.Gen = Revoked, at, reason, gen
		return false, err
	})
}

// Unrevoke releases a certificateHold.
func (s *SQLiteStore) Unrevoke(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	r, _, err := s.update(ctx, issuer, serial, func(tx *sql.Tx, r *Record, gen int64) (bool, error) {
		switch {
		case r.Status == Good:
			return true, nil
		case r.Reason != 6:
			return false, fmt.Errorf("serial %s is revoked (%s), not on hold: %w", SerialHex(r.Serial), ReasonName(r.Reason), ErrFinal)
		}
		_, err := tx.ExecContext(ctx, `UPDATE certificates SET status = 0, revoked_at = 0, reason = 0, gen = ? WHERE issuer = ? AND serial = ?`,
			gen, r.Issuer, SerialHex(r.Serial))
		r.Status, r.RevokedAt, r.Reason, r.Gen = Good, time.Time{}, 0, gen
		return false, err
	})
	return r, err
}

// update runs f on one record inside a write transaction; f reports whether
// nothing changed (then the generation is not moved).
func (s *SQLiteStore) update(ctx context.Context, issuer string, serial *big.Int, f func(*sql.Tx, *Record, int64) (bool, error)) (Record, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Record{}, false, fmt.Errorf("crl: store: %w", err)
	}
	defer tx.Rollback()
	r, err := s.get(ctx, tx, issuer, serial)
	if err != nil {
		return Record{}, false, err
	}
	var gen int64
	if err := tx.QueryRowContext(ctx, `SELECT value + 1 FROM counters WHERE name = 'generation'`).Scan(&gen); err != nil {
		return Record{}, false, fmt.Errorf("crl: store: %w", err)
	}
	unchanged, err := f(tx, &r, gen)
	if err != nil || unchanged {
		return r, unchanged, err
	}
	if _, err := bumpGen(ctx, tx); err != nil {
		return Record{}, false, fmt.Errorf("crl: store: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Record{}, false, fmt.Errorf("crl: store: committing: %w", err)
	}
	return r, false, nil
}

func (s *SQLiteStore) list(ctx context.Context, where string, args ...any) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM certificates WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("crl: store: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("crl: store: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Revoked lists the revoked, not long expired certificates of issuer. It
// reads only what a CRL entry needs (serial, time, reason, expiry): a 100k
// entry CRL spends a third of its time here.
func (s *SQLiteStore) Revoked(ctx context.Context, issuer string, asOf time.Time) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT serial, revoked_at, reason, not_after FROM certificates
		WHERE issuer = ? AND status = 1 AND not_after > ?`, issuer, asOf.Add(-time.Hour).Unix())
	if err != nil {
		return nil, fmt.Errorf("crl: store: %w", err)
	}
	defer rows.Close()
	var out []Record
	var serial []byte
	var revokedAt, notAfter int64
	for rows.Next() {
		r := Record{Issuer: issuer, Status: Revoked}
		if err := rows.Scan(&serial, &revokedAt, &r.Reason, &notAfter); err != nil {
			return nil, fmt.Errorf("crl: store: %w", err)
		}
		b := make([]byte, hex.DecodedLen(len(serial)+len(serial)%2))
		if len(serial)%2 == 1 {
			serial = append([]byte{'0'}, serial...)
		}
		if _, err := hex.Decode(b, serial); err != nil {
			return nil, fmt.Errorf("crl: store: serial %q: %w", serial, err)
		}
		r.Serial = new(big.Int).SetBytes(b)
		r.RevokedAt, r.NotAfter = time.Unix(revokedAt, 0).UTC(), time.Unix(notAfter, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// All lists every record of issuer.
func (s *SQLiteStore) All(ctx context.Context, issuer string) ([]Record, error) {
	return s.list(ctx, `issuer = ?`, issuer)
}

// ChangedSince lists the records of issuer changed after generation gen.
func (s *SQLiteStore) ChangedSince(ctx context.Context, issuer string, gen int64) ([]Record, error) {
	return s.list(ctx, `issuer = ? AND gen > ?`, issuer, gen)
}

// Generation returns the change counter.
func (s *SQLiteStore) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'generation'`).Scan(&g); err != nil {
		return 0, fmt.Errorf("crl: store: %w", err)
	}
	return g, nil
}

// NextCRLNumber hands out the next CRL number of issuer.
func (s *SQLiteStore) NextCRLNumber(ctx context.Context, issuer string) (*big.Int, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`, "crlnumber/"+issuer).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("crl: store: CRL number of %s: %w", issuer, err)
	}
	return big.NewInt(n), nil
}

// SaveCRL keeps c as the latest CRL of issuer, in one write transaction so
// that two processes saving at once keep the higher number.
func (s *SQLiteStore) SaveCRL(ctx context.Context, issuer string, c StoredCRL) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("crl: store: %w", err)
	}
	defer tx.Rollback()
	var old string
	switch err := tx.QueryRowContext(ctx, `SELECT number FROM crls WHERE issuer = ?`, issuer).Scan(&old); {
	case err == sql.ErrNoRows:
	case err != nil:
		return fmt.Errorf("crl: store: CRL of %s: %w", issuer, err)
	default:
		if n, ok := new(big.Int).SetString(old, 10); ok && n.Cmp(c.Number) >= 0 {
			return fmt.Errorf("crl: saving CRL %s of %s (store has %s): %w", c.Number, issuer, n, ErrStaleCRL)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO crls (issuer, number, gen, der) VALUES (?, ?, ?, ?)
		ON CONFLICT (issuer) DO UPDATE SET number = excluded.number, gen = excluded.gen, der = excluded.der`,
		issuer, c.Number.String(), c.Gen, c.DER); err != nil {
		return fmt.Errorf("crl: store: saving CRL %s of %s: %w", c.Number, issuer, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("crl: store: saving CRL %s of %s: %w", c.Number, issuer, err)
	}
	return nil
}

// LatestCRL returns the latest CRL of issuer if its number is greater than
// newerThan. The number is read first, so a poll that finds nothing new
// reads no CRL bytes.
func (s *SQLiteStore) LatestCRL(ctx context.Context, issuer string, newerThan *big.Int) (StoredCRL, bool, error) {
	var num string
	var gen int64
	err := s.db.QueryRowContext(ctx, `SELECT number, gen FROM crls WHERE issuer = ?`, issuer).Scan(&num, &gen)
	if err == sql.ErrNoRows {
		return StoredCRL{}, false, nil
	}
	if err != nil {
		return StoredCRL{}, false, fmt.Errorf("crl: store: CRL of %s: %w", issuer, err)
	}
	n, ok := new(big.Int).SetString(num, 10)
	if !ok {
		return StoredCRL{}, false, fmt.Errorf("crl: store: CRL of %s has number %q", issuer, num)
	}
	if newerThan != nil && n.Cmp(newerThan) <= 0 {
		return StoredCRL{}, false, nil
	}
	c := StoredCRL{Number: n, Gen: gen}
	err = s.db.QueryRowContext(ctx, `SELECT number, gen, der FROM crls WHERE issuer = ?`, issuer).Scan(&num, &c.Gen, &c.DER)
	if err != nil {
		return StoredCRL{}, false, fmt.Errorf("crl: store: CRL of %s: %w", issuer, err)
	}
	if c.Number, ok = new(big.Int).SetString(num, 10); !ok {
		return StoredCRL{}, false, fmt.Errorf("crl: store: CRL of %s has number %q", issuer, num)
	}
	return c, true, nil
}
