package crl

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// MemStore is an in-memory Store for tests and simulations; it behaves like
// SQLiteStore within one process.
type MemStore struct {
	mu   sync.Mutex
	recs map[string]*Record // issuer + "/" + serial hex
	gen  int64
	nums map[string]int64
	crls map[string]StoredCRL
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{recs: map[string]*Record{}, nums: map[string]int64{}, crls: map[string]StoredCRL{}}
}

func memKey(issuer string, s *big.Int) string { return issuer + "/" + SerialHex(s) }

// Record adds a certificate.
func (m *MemStore) Record(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(r.Issuer, r.Serial)
	if _, ok := m.recs[k]; ok {
		return nil
	}
	m.gen++
	r.Status, r.RevokedAt, r.Reason, r.Gen = Good, time.Time{}, 0, m.gen
	r.NotAfter = r.NotAfter.UTC().Truncate(time.Second)
	m.recs[k] = &r
	return nil
}

func (m *MemStore) find(issuer string, serial *big.Int) (*Record, error) {
	var found []*Record
	for _, r := range m.recs {
		if r.Serial.Cmp(serial) == 0 && (issuer == "" || r.Issuer == issuer) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("serial %s: %w", SerialHex(serial), ErrNotFound)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("crl: serial %s is issued by several CAs; name the issuer", SerialHex(serial))
}

// Get returns one record.
func (m *MemStore) Get(_ context.Context, issuer string, serial *big.Int) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(issuer, serial)
	if err != nil {
		return Record{}, err
	}
	return *r, nil
}

// Revoke marks a certificate revoked.
func (m *MemStore) Revoke(_ context.Context, issuer string, serial *big.Int, at time.Time, reason int) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(issuer, serial)
	if err != nil {
		return Record{}, false, err
	}
	if r.Status == Revoked && !(r.Reason == 6 && reason != 6) {
		return *r, true, nil
	}
	m.gen++
	r.Status, r.RevokedAt, r.Reason, r.Gen = Revoked, at.UTC().Truncate(time.Second), reason, m.gen
	return *r, false, nil
}

// Unrevoke releases a certificateHold.
func (m *MemStore) Unrevoke(_ context.Context, issuer string, serial *big.Int) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(issuer, serial)
	if err != nil {
		return Record{}, err
	}
	switch {
	case r.Status == Good:
		return *r, nil
	case r.Reason != 6:
		return Record{}, fmt.Errorf("serial %s is revoked (%s), not on hold: %w", SerialHex(serial), ReasonName(r.Reason), ErrFinal)
	}
	m.gen++
	r.Status, r.RevokedAt, r.Reason, r.Gen = Good, time.Time{}, 0, m.gen
	return *r, nil
}

func (m *MemStore) list(f func(*Record) bool) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		if f(r) {
			out = append(out, *r)
		}
	}
	return out
}

// Revoked lists revoked, not long expired certificates of issuer.
func (m *MemStore) Revoked(_ context.Context, issuer string, asOf time.Time) ([]Record, error) {
	return m.list(func(r *Record) bool {
		return r.Issuer == issuer && r.Status == Revoked && r.NotAfter.After(asOf.Add(-time.Hour))
	}), nil
}

// All lists every record of issuer.
func (m *MemStore) All(_ context.Context, issuer string) ([]Record, error) {
	return m.list(func(r *Record) bool { return r.Issuer == issuer }), nil
}

// ChangedSince lists records of issuer changed after gen.
func (m *MemStore) ChangedSince(_ context.Context, issuer string, gen int64) ([]Record, error) {
	return m.list(func(r *Record) bool { return r.Issuer == issuer && r.Gen > gen }), nil
}

// Generation returns the change counter.
func (m *MemStore) Generation(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, nil
}

// NextCRLNumber hands out the next CRL number of issuer.
func (m *MemStore) NextCRLNumber(_ context.Context, issuer string) (*big.Int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nums[issuer]++
	return big.NewInt(m.nums[issuer]), nil
}

// SaveCRL keeps c as the latest CRL of issuer unless a newer one is kept.
func (m *MemStore) SaveCRL(_ context.Context, issuer string, c StoredCRL) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.crls[issuer]; ok && old.Number.Cmp(c.Number) >= 0 {
		return fmt.Errorf("crl: saving CRL %s of %s (store has %s): %w", c.Number, issuer, old.Number, ErrStaleCRL)
	}
	c.DER = append([]byte(nil), c.DER...)
	c.Number = new(big.Int).Set(c.Number)
	m.crls[issuer] = c
	return nil
}

// LatestCRL returns the latest CRL of issuer if newer than newerThan.
func (m *MemStore) LatestCRL(_ context.Context, issuer string, newerThan *big.Int) (StoredCRL, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.crls[issuer]
	if !ok || (newerThan != nil && c.Number.Cmp(newerThan) <= 0) {
		return StoredCRL{}, false, nil
	}
	return c, true, nil
}

// Close does nothing.
func (m *MemStore) Close() error { return nil }
