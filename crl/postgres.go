package crl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresSchemaVersion is the PostgreSQL schema this build writes (the
// cmgpki_schema table). A database with a higher version is refused.
const PostgresSchemaVersion = 1

// pgMigrations[i] takes a database from schema version i to i+1.
var pgMigrations = [][]string{
	{ // 0 -> 1
		`CREATE TABLE certificates (
			issuer     text    NOT NULL,
			serial     text    NOT NULL, -- lower-case hex
			subject    text    NOT NULL,
			role       text    NOT NULL,
			not_after  bigint  NOT NULL, -- unix seconds
			status     integer NOT NULL DEFAULT 0,
			revoked_at bigint  NOT NULL DEFAULT 0,
			reason     integer NOT NULL DEFAULT 0,
			gen        bigint  NOT NULL DEFAULT 0,
			PRIMARY KEY (issuer, serial))`,
		`CREATE INDEX certificates_serial ON certificates (serial)`,
		`CREATE INDEX certificates_gen ON certificates (issuer, gen)`,
		`CREATE INDEX certificates_revoked ON certificates (issuer) WHERE status = 1`,
		`CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)`,
		`INSERT INTO counters (name, value) VALUES ('generation', 0)`,
		`CREATE TABLE crls (
			issuer text    PRIMARY KEY,
			number numeric NOT NULL,
			gen    bigint  NOT NULL, -- store generation the CRL covers
			der    bytea   NOT NULL)`,
	},
}

// pgLockMigrate and pgLockSign are advisory lock keys: migrations run under
// the first, and a serve signs CRLs only while it holds the second.
const (
	pgLockMigrate int64 = 0x636d67706b690001 // "cmgpki" 1
	pgLockSign    int64 = 0x636d67706b690002
)

// PostgresChannel is the LISTEN/NOTIFY channel every change is announced on
// (the payload is the new store generation).
const PostgresChannel = "cmgpki_changes"

// PostgresStore is the shared Store for several serve instances: every
// instance and the CLI use one PostgreSQL database. Each change bumps the
// generation counter under its row lock (so generations commit in order) and
// sends a notification on PostgresChannel in the same transaction; Watch
// turns those into wake-ups of the Updater.
type PostgresStore struct {
	pool *pgxpool.Pool
	cfg  *pgx.ConnConfig // for the notification connection, outside the pool
	name string          // the URL without password, for messages

	mu   sync.Mutex
	sign *pgxpool.Conn // holds pgLockSign while not nil
}

var _ Store = (*PostgresStore)(nil)

// IsPostgresURL reports whether s names a PostgreSQL database.
func IsPostgresURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// RedactURL returns s without its password, for messages.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// OpenPostgres connects to the database at connURL (a postgres:// or
// postgresql:// URL; the password comes from PGPASSWORD or ~/.pgpass as
// libpq's do), creates or migrates its schema, and refuses a database
// written by a newer cmgpki.
func OpenPostgres(ctx context.Context, connURL string) (*PostgresStore, error) {
	name := RedactURL(connURL)
	cfg, err := pgxpool.ParseConfig(connURL)
	if err != nil {
		return nil, fmt.Errorf("crl: store %s: %w", name, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("crl: store %s: %w", name, err)
	}
	s := &PostgresStore{pool: pool, cfg: cfg.ConnConfig.Copy(), name: name}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *PostgresStore) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("crl: store %s: %w", s.name, err)
	}
	defer tx.Rollback(ctx)
	// One process migrates; the others wait here and then find it done.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgLockMigrate); err != nil {
		return fmt.Errorf("crl: store %s: %w", s.name, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS cmgpki_schema (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("crl: creating store schema in %s: %w", s.name, err)
	}
	var v int
	switch err := tx.QueryRow(ctx, `SELECT version FROM cmgpki_schema`).Scan(&v); {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO cmgpki_schema (version) VALUES (0)`); err != nil {
			return fmt.Errorf("crl: creating store schema in %s: %w", s.name, err)
		}
	case err != nil:
		return fmt.Errorf("crl: store %s: %w", s.name, err)
	}
	if v > PostgresSchemaVersion {
		return fmt.Errorf("crl: store %s has schema version %d, newer than this cmgpki understands (%d); upgrade cmgpki", s.name, v, PostgresSchemaVersion)
	}
	if v == PostgresSchemaVersion {
		return nil
	}
	for ; v < PostgresSchemaVersion; v++ {
		for _, stmt := range pgMigrations[v] {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("crl: migrating store %s to schema version %d: %w", s.name, v+1, err)
			}
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE cmgpki_schema SET version = $1`, PostgresSchemaVersion); err != nil {
		return fmt.Errorf("crl: store %s: %w", s.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("crl: migrating store %s: %w", s.name, err)
	}
	return nil
}

// Close releases the signing lock (if held) and closes the pool.
func (s *PostgresStore) Close() error {
	s.ReleaseSigning()
	s.pool.Close()
	return nil
}

func (s *PostgresStore) wrap(err error) error {
	return fmt.Errorf("crl: store %s: %w", s.name, err)
}

// bump moves the generation under its row lock (held to commit, so
// generations become visible in order) and announces it on commit.
func pgBump(ctx context.Context, tx pgx.Tx) (int64, error) {
	var g int64
	if err := tx.QueryRow(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'generation' RETURNING value`).Scan(&g); err != nil {
		return 0, err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PostgresChannel, strconv.FormatInt(g, 10))
	return g, err
}

// Record adds one issued certificate.
func (s *PostgresStore) Record(ctx context.Context, r Record) error {
	return s.RecordBatch(ctx, []Record{r})
}

// RecordBatch adds issued certificates in one transaction (COPY into a
// temporary table, then one INSERT); known ones are left as they are and
// the generation moves only when something is new.
func (s *PostgresStore) RecordBatch(ctx context.Context, rs []Record) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE incoming (issuer text, serial text, subject text, role text, not_after bigint) ON COMMIT DROP`); err != nil {
		return s.wrap(err)
	}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		rows[i] = []any{r.Issuer, SerialHex(r.Serial), r.Subject, r.Role, r.NotAfter.Unix()}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming"}, []string{"issuer", "serial", "subject", "role", "not_after"}, pgx.CopyFromRows(rows)); err != nil {
		return s.wrap(fmt.Errorf("recording %d certificates: %w", len(rs), err))
	}
	gen, err := pgBump(ctx, tx)
	if err != nil {
		return s.wrap(err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO certificates (issuer, serial, subject, role, not_after, gen)
		SELECT DISTINCT ON (issuer, serial) issuer, serial, subject, role, not_after, $1 FROM incoming
		ON CONFLICT (issuer, serial) DO NOTHING`, gen)
	if err != nil {
		return s.wrap(fmt.Errorf("recording %d certificates: %w", len(rs), err))
	}
	if tag.RowsAffected() == 0 {
		return nil // nothing new: leave the generation alone (rollback)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap(err)
	}
	return nil
}

func pgScan(sc scanner) (Record, error) {
	var r Record
	var serial string
	var notAfter, revokedAt int64
	var status int32
	var reason int32
	if err := sc.Scan(&r.Issuer, &serial, &r.Subject, &r.Role, &notAfter, &status, &revokedAt, &reason, &r.Gen); err != nil {
		return r, err
	}
	r.Status, r.Reason = Status(status), int(reason)
	r.Serial, _ = new(big.Int).SetString(serial, 16)
	r.NotAfter = time.Unix(notAfter, 0).UTC()
	if revokedAt != 0 {
		r.RevokedAt = time.Unix(revokedAt, 0).UTC()
	}
	return r, nil
}

type pgQuerier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

func (s *PostgresStore) list(ctx context.Context, q pgQuerier, where string, args ...any) ([]Record, error) {
	rows, err := q.Query(ctx, `SELECT `+cols+` FROM certificates WHERE `+where, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := pgScan(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

func (s *PostgresStore) get(ctx context.Context, q pgQuerier, issuer string, serial *big.Int, lock bool) (Record, error) {
	where, args := `serial = $1`, []any{SerialHex(serial)}
	if issuer != "" {
		where, args = where+` AND issuer = $2`, append(args, issuer)
	}
	if lock {
		where += ` FOR UPDATE`
	}
	found, err := s.list(ctx, q, where, args...)
	if err != nil {
		return Record{}, err
	}
	return onlyRecord(found, serial)
}

// Get returns one record.
func (s *PostgresStore) Get(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	return s.get(ctx, s.pool, issuer, serial, false)
}

// update runs f on one record, locked, inside a transaction that holds the
// generation; f reports whether nothing changed (then it rolls back).
func (s *PostgresStore) update(ctx context.Context, issuer string, serial *big.Int, f func(pgx.Tx, *Record, int64) (bool, error)) (Record, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Record{}, false, s.wrap(err)
	}
	defer tx.Rollback(ctx)
	gen, err := pgBump(ctx, tx)
	if err != nil {
		return Record{}, false, s.wrap(err)
	}
	r, err := s.get(ctx, tx, issuer, serial, true)
	if err != nil {
		return Record{}, false, err
	}
	unchanged, err := f(tx, &r, gen)
	if err != nil || unchanged {
		return r, unchanged, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Record{}, false, s.wrap(fmt.Errorf("committing: %w", err))
	}
	return r, false, nil
}

// Revoke marks a certificate revoked. A certificate on hold may be revoked
// for good; one already revoked for another reason is left as it is.
func (s *PostgresStore) Revoke(ctx context.Context, issuer string, serial *big.Int, at time.Time, reason int) (Record, bool, error) {
	return s.update(ctx, issuer, serial, func(tx pgx.Tx, r *Record, gen int64) (bool, error) {
		if r.Status == Revoked && !(r.Reason == 6 && reason != 6) {
			return true, nil
		}
		at = at.UTC().Truncate(time.Second)
		_, err := tx.Exec(ctx, `UPDATE certificates SET status = 1, revoked_at = $1, reason = $2, gen = $3 WHERE issuer = $4 AND serial = $5`,
			at.Unix(), reason, gen, r.Issuer, SerialHex(r.Serial))
		r.Status, r.RevokedAt, r.Reason, r.Gen = Revoked, at, reason, gen
		return false, err
	})
}

// Unrevoke releases a certificateHold.
func (s *PostgresStore) Unrevoke(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	r, _, err := s.update(ctx, issuer, serial, func(tx pgx.Tx, r *Record, gen int64) (bool, error) {
		switch {
		case r.Status == Good:
			return true, nil
		case r.Reason != 6:
			return false, fmt.Errorf("serial %s is revoked (%s), not on hold: %w", SerialHex(r.Serial), ReasonName(r.Reason), ErrFinal)
		}
		_, err := tx.Exec(ctx, `UPDATE certificates SET status = 0, revoked_at = 0, reason = 0, gen = $1 WHERE issuer = $2 AND serial = $3`,
			gen, r.Issuer, SerialHex(r.Serial))
		r.Status, r.RevokedAt, r.Reason, r.Gen = Good, time.Time{}, 0, gen
		return false, err
	})
	return r, err
}

// Revoked lists the revoked, not long expired certificates of issuer,
// reading only what a CRL entry needs.
func (s *PostgresStore) Revoked(ctx context.Context, issuer string, asOf time.Time) ([]Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT serial, revoked_at, reason, not_after FROM certificates
		WHERE issuer = $1 AND status = 1 AND not_after > $2`, issuer, asOf.Add(-time.Hour).Unix())
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []Record
	var serial string
	var revokedAt, notAfter int64
	var reason int32
	for rows.Next() {
		if err := rows.Scan(&serial, &revokedAt, &reason, &notAfter); err != nil {
			return nil, s.wrap(err)
		}
		n, ok := new(big.Int).SetString(serial, 16)
		if !ok {
			return nil, s.wrap(fmt.Errorf("serial %q is not hexadecimal", serial))
		}
		out = append(out, Record{Issuer: issuer, Status: Revoked, Serial: n, Reason: int(reason),
			RevokedAt: time.Unix(revokedAt, 0).UTC(), NotAfter: time.Unix(notAfter, 0).UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

// All lists every record of issuer.
func (s *PostgresStore) All(ctx context.Context, issuer string) ([]Record, error) {
	return s.list(ctx, s.pool, `issuer = $1`, issuer)
}

var errNoRows = pgx.ErrNoRows

// Issuers lists the issuers the store has records or CRLs of.
func (s *PostgresStore) Issuers(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT issuer FROM certificates UNION SELECT issuer FROM crls ORDER BY 1`)
	if err != nil {
		return nil, s.wrap(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.wrap(err)
	}
	return out, nil
}

// ChangedSince lists the records of issuer changed after generation gen.
func (s *PostgresStore) ChangedSince(ctx context.Context, issuer string, gen int64) ([]Record, error) {
	return s.list(ctx, s.pool, `issuer = $1 AND gen > $2`, issuer, gen)
}

// Generation returns the change counter.
func (s *PostgresStore) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'generation'`).Scan(&g); err != nil {
		return 0, s.wrap(err)
	}
	return g, nil
}

// NextCRLNumber hands out the next CRL number of issuer; the counter row's
// lock orders concurrent callers, so numbers strictly increase across
// instances and restarts.
func (s *PostgresStore) NextCRLNumber(ctx context.Context, issuer string) (*big.Int, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "crlnumber/"+issuer).Scan(&n)
	if err != nil {
		return nil, s.wrap(fmt.Errorf("CRL number of %s: %w", issuer, err))
	}
	return big.NewInt(n), nil
}

// SaveCRL keeps c as the latest CRL of issuer in one statement: the row is
// replaced only by a higher number, so two instances saving at once keep
// the higher one. It notifies the other instances.
func (s *PostgresStore) SaveCRL(ctx context.Context, issuer string, c StoredCRL) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `INSERT INTO crls (issuer, number, gen, der) VALUES ($1, $2::text::numeric, $3, $4)
		ON CONFLICT (issuer) DO UPDATE SET number = excluded.number, gen = excluded.gen, der = excluded.der
		WHERE crls.number < excluded.number`, issuer, c.Number.String(), c.Gen, c.DER)
	if err != nil {
		return s.wrap(fmt.Errorf("saving CRL %s of %s: %w", c.Number, issuer, err))
	}
	if tag.RowsAffected() == 0 {
		var have string
		tx.QueryRow(ctx, `SELECT number::text FROM crls WHERE issuer = $1`, issuer).Scan(&have)
		return fmt.Errorf("crl: saving CRL %s of %s (store has %s): %w", c.Number, issuer, have, ErrStaleCRL)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PostgresChannel, "crl "+issuer); err != nil {
		return s.wrap(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap(fmt.Errorf("saving CRL %s of %s: %w", c.Number, issuer, err))
	}
	return nil
}

// LatestCRL returns the latest CRL of issuer if its number is greater than
// newerThan; a poll that finds nothing new reads no CRL bytes.
func (s *PostgresStore) LatestCRL(ctx context.Context, issuer string, newerThan *big.Int) (StoredCRL, bool, error) {
	after := "-1"
	if newerThan != nil {
		after = newerThan.String()
	}
	var num string
	c := StoredCRL{}
	err := s.pool.QueryRow(ctx, `SELECT number::text, gen, der FROM crls WHERE issuer = $1 AND number > $2::text::numeric`, issuer, after).Scan(&num, &c.Gen, &c.DER)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredCRL{}, false, nil
	}
	if err != nil {
		return StoredCRL{}, false, s.wrap(fmt.Errorf("CRL of %s: %w", issuer, err))
	}
	var ok bool
	if c.Number, ok = new(big.Int).SetString(num, 10); !ok {
		return StoredCRL{}, false, s.wrap(fmt.Errorf("CRL of %s has number %q", issuer, num))
	}
	return c, true, nil
}

// TrySigning reports whether this process may sign CRLs: it takes the
// session-level advisory lock on a connection it keeps, or finds it already
// held by this store. Another instance holding it makes it false. When the
// connection is lost, so is the lock (PostgreSQL releases it), and the next
// call tries again on a new connection.
func (s *PostgresStore) TrySigning(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sign != nil {
		if err := s.sign.Ping(ctx); err == nil {
			return true, nil
		}
		s.sign.Conn().Close(context.Background())
		s.sign.Release()
		s.sign = nil
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, s.wrap(err)
	}
	var got bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, pgLockSign).Scan(&got); err != nil {
		c.Release()
		return false, s.wrap(err)
	}
	if !got {
		c.Release()
		return false, nil
	}
	s.sign = c
	return true, nil
}

// ReleaseSigning gives the signing lock up (on Close, or for tests).
func (s *PostgresStore) ReleaseSigning() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sign != nil {
		s.sign.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, pgLockSign)
		s.sign.Release()
		s.sign = nil
	}
}

// Watch listens on PostgresChannel on a dedicated connection and sends on
// wake (without blocking) for every notification, and once after each
// (re)connection, since changes made while it was away were not announced.
// When the connection drops it reconnects every retry; connected reports
// the state for /healthz. It returns when ctx ends.
func (s *PostgresStore) Watch(ctx context.Context, wake chan<- struct{}, retry time.Duration, connected func(bool, error)) {
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, `LISTEN `+PostgresChannel); err != nil {
				conn.Close(context.Background())
			}
		}
		if err != nil {
			if connected != nil && ctx.Err() == nil {
				connected(false, err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(retry):
			}
			continue
		}
		if connected != nil {
			connected(true, nil)
		}
		poke()
		for {
			_, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			poke()
		}
		conn.Close(context.Background())
		if ctx.Err() == nil && connected != nil {
			connected(false, errors.New("notification connection lost"))
		}
	}
}

// IsUnavailable reports whether err means the database could not be
// reached (as opposed to a refused statement).
func IsUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code[:2] == "08" || pe.Code[:2] == "57" // connection exception, operator intervention
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)
}
