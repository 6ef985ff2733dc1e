package crl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Copyable is a store CopyStore can read from and write to: SQLiteStore and
// PostgresStore.
type Copyable interface {
	Store
	RecordBatch(ctx context.Context, rs []Record) error
	// Issuers lists the issuers the store has records or CRLs of.
	Issuers(ctx context.Context) ([]string, error)
	// CRLCounter is the last CRL number handed out for issuer (0: none).
	CRLCounter(ctx context.Context, issuer string) (int64, error)
	// RaiseCRLCounter makes the next CRL number of issuer greater than n.
	RaiseCRLCounter(ctx context.Context, issuer string, n int64) error
}

// CopyResult counts what CopyStore did.
type CopyResult struct {
	Issuers     int   `json:"issuers"`
	Records     int   `json:"records"`     // read from the source
	Revocations int   `json:"revocations"` // revoked in the source
	NewRevoked  int   `json:"new_revoked"` // revoked in the target by this copy
	CRLs        int   `json:"crls_copied"` // latest CRLs saved in the target
	Conflicts   int   `json:"conflicts"`   // records left as the target has them
	Generation  int64 `json:"target_generation"`
}

// CopyStore copies every record, revocation and latest CRL of from into to,
// and raises to's CRL numbers above from's, so CRLs signed after a move
// continue the numbering. It is idempotent: what to already has is left as
// it is (a revocation is never undone; a record revoked differently in the
// two stores is counted as a conflict and keeps the target's state).
func CopyStore(ctx context.Context, from, to Copyable) (CopyResult, error) {
	var res CopyResult
	issuers, err := from.Issuers(ctx)
	if err != nil {
		return res, err
	}
	res.Issuers = len(issuers)
	for _, iss := range issuers {
		all, err := from.All(ctx, iss)
		if err != nil {
			return res, err
		}
		res.Records += len(all)
		for i := 0; i < len(all); i += 50000 {
			if err := to.RecordBatch(ctx, all[i:min(i+50000, len(all))]); err != nil {
				return res, err
			}
		}
		for _, r := range all {
			if r.Status != Revoked {
				continue
			}
			res.Revocations++
			got, already, err := to.Revoke(ctx, iss, r.Serial, r.RevokedAt, r.Reason)
			if err != nil {
				return res, fmt.Errorf("crl: copying the revocation of %s %s: %w", iss, SerialHex(r.Serial), err)
			}
			switch {
			case !already:
				res.NewRevoked++
			case got.Reason != r.Reason || !got.RevokedAt.Equal(r.RevokedAt):
				res.Conflicts++
			}
		}
		n, err := from.CRLCounter(ctx, iss)
		if err != nil {
			return res, err
		}
		if c, ok, err := from.LatestCRL(ctx, iss, nil); err != nil {
			return res, err
		} else if ok {
			if c.Number.IsInt64() && c.Number.Int64() > n {
				n = c.Number.Int64()
			}
			// The CRL covers the source's generations, not the target's: 0
			// makes every updater on the target check it against the records.
			c.Gen = 0
			switch err := to.SaveCRL(ctx, iss, c); {
			case err == nil:
				res.CRLs++
			case !errors.Is(err, ErrStaleCRL):
				return res, err
			}
		}
		if err := to.RaiseCRLCounter(ctx, iss, n); err != nil {
			return res, err
		}
	}
	res.Generation, err = to.Generation(ctx)
	return res, err
}

// Issuers lists the issuers the store has records or CRLs of.
func (s *SQLiteStore) Issuers(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT issuer FROM certificates UNION SELECT issuer FROM crls ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("crl: store %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CRLCounter is the last CRL number handed out for issuer.
func (s *SQLiteStore) CRLCounter(ctx context.Context, issuer string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = ?`, "crlnumber/"+issuer).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("crl: store %s: %w", s.path, err)
	}
	return n, nil
}

// RaiseCRLCounter makes the next CRL number of issuer greater than n.
func (s *SQLiteStore) RaiseCRLCounter(ctx context.Context, issuer string, n int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`, "crlnumber/"+issuer, n)
	if err != nil {
		return fmt.Errorf("crl: store %s: %w", s.path, err)
	}
	return nil
}

// CRLCounter is the last CRL number handed out for issuer.
func (s *PostgresStore) CRLCounter(ctx context.Context, issuer string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT value FROM counters WHERE name = $1`, "crlnumber/"+issuer).Scan(&n)
	if errors.Is(err, errNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap(err)
	}
	return n, nil
}

// RaiseCRLCounter makes the next CRL number of issuer greater than n.
func (s *PostgresStore) RaiseCRLCounter(ctx context.Context, issuer string, n int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO counters (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value, excluded.value)`, "crlnumber/"+issuer, n)
	if err != nil {
		return s.wrap(err)
	}
	return nil
}
