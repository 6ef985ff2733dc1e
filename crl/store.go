package crl

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ErrNotFound is returned when a store has no certificate with a serial.
var ErrNotFound = errors.New("no such certificate in the store")

// ErrFinal is returned by Unrevoke for a revocation other than
// certificateHold: RFC 5280 5.3.1 makes it permanent.
var ErrFinal = errors.New("revocation is final; only certificateHold can be released (RFC 5280 5.3.1)")

// ErrStaleCRL is returned by SaveCRL when the store already holds a CRL of
// the issuer with the same or a higher number (another process signed one
// meanwhile).
var ErrStaleCRL = errors.New("the store holds a CRL with the same or a higher number")

// StoredCRL is the latest signed CRL of an issuer as the store keeps it, so
// that every process (cmgpki crl, each cmgpki serve) serves and publishes
// the same CRL.
type StoredCRL struct {
	Number *big.Int
	DER    []byte
	// Gen is the store generation read before the CRL's entries were: every
	// change at or below it is in the CRL.
	Gen int64
}

// Status is a certificate's revocation status in the store.
type Status int

// The statuses.
const (
	Good    Status = 0
	Revoked Status = 1 // including certificateHold (Reason == ocsp.CertificateHold)
)

// Record is one issued certificate as the store knows it.
type Record struct {
	Issuer    string    // CA name (the lab manifest's name)
	Serial    *big.Int  // certificate serial
	Subject   string    // for humans
	Role      string    // profile name
	NotAfter  time.Time // after this the entry may leave the CRL
	Status    Status
	RevokedAt time.Time // zero unless revoked
	Reason    int       // RFC 5280 CRLReason; ocsp.Unspecified (0) omits the extension
	// Gen is the store generation at which the record last changed; callers
	// compare it with Generation to find what to re-sign.
	Gen int64
}

// SerialHex renders a serial the way the manifest and CLI do: lower-case hex.
func SerialHex(s *big.Int) string { return fmt.Sprintf("%x", s) }

// ParseSerial parses a hex serial as printed by the manifest, openssl (with
// or without colons) or Windows (with spaces).
func ParseSerial(s string) (*big.Int, error) {
	clean := strings.NewReplacer(":", "", " ", "", "0x", "", "0X", "").Replace(strings.TrimSpace(s))
	n, ok := new(big.Int).SetString(clean, 16)
	if !ok || clean == "" || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q is not a positive hexadecimal number", s)
	}
	return n, nil
}

// Store is what the CRL generator, the OCSP responder and the revoke command
// need from the record store. SQLiteStore is the embedded implementation;
// MemStore is for tests. A PostgreSQL implementation can be added behind
// the same interface.
type Store interface {
	// Record adds an issued certificate; recording it again is a no-op.
	Record(ctx context.Context, r Record) error
	// Get returns the record of serial under issuer; issuer "" searches every
	// issuer and fails if the serial is ambiguous.
	Get(ctx context.Context, issuer string, serial *big.Int) (Record, error)
	// Revoke marks a certificate revoked at the given time with reason. It
	// returns the record as it now is and whether it was already revoked
	// (then nothing changes: revoking twice is idempotent).
	Revoke(ctx context.Context, issuer string, serial *big.Int, at time.Time, reason int) (r Record, already bool, err error)
	// Unrevoke releases a certificateHold. A revocation for any other reason
	// is final (RFC 5280 5.3.1) and returns an error.
	Unrevoke(ctx context.Context, issuer string, serial *big.Int) (Record, error)
	// Revoked lists the revoked certificates of issuer that have not expired
	// more than an hour before asOf (asOf is the caller's, never decided inside).
	Revoked(ctx context.Context, issuer string, asOf time.Time) ([]Record, error)
	// All lists every record of issuer.
	All(ctx context.Context, issuer string) ([]Record, error)
	// ChangedSince lists records of issuer whose Gen is greater than gen.
	ChangedSince(ctx context.Context, issuer string, gen int64) ([]Record, error)
	// Generation is a counter that increases with every change.
	Generation(ctx context.Context) (int64, error)
	// NextCRLNumber returns a CRL number for issuer strictly greater than
	// every number handed out before, across processes.
	NextCRLNumber(ctx context.Context, issuer string) (*big.Int, error)
	// SaveCRL keeps c as the latest CRL of issuer, unless the store holds one
	// whose number is the same or higher: then it returns ErrStaleCRL.
	SaveCRL(ctx context.Context, issuer string, c StoredCRL) error
	// LatestCRL returns the latest CRL saved for issuer if its number is
	// greater than newerThan (nil: any); ok is false when there is none.
	LatestCRL(ctx context.Context, issuer string, newerThan *big.Int) (c StoredCRL, ok bool, err error)
	Close() error
}

// ReasonNames are the RFC 5280 reason names accepted by revoke.
var ReasonNames = map[string]int{
	"unspecified":          ocsp.Unspecified,
	"keyCompromise":        ocsp.KeyCompromise,
	"cACompromise":         ocsp.CACompromise,
	"affiliationChanged":   ocsp.AffiliationChanged,
	"superseded":           ocsp.Superseded,
	"cessationOfOperation": ocsp.CessationOfOperation,
	"certificateHold":      ocsp.CertificateHold,
	"privilegeWithdrawn":   ocsp.PrivilegeWithdrawn,
	"aACompromise":         ocsp.AACompromise,
}

// ParseReason parses an RFC 5280 reason name (case-insensitive).
// removeFromCRL is not a revocation reason: use unrevoke.
func ParseReason(s string) (int, error) {
	for n, v := range ReasonNames {
		if strings.EqualFold(n, s) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown revocation reason %q (want one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise)", s)
}

// ReasonName returns the RFC 5280 name of a reason code.
func ReasonName(r int) string {
	for n, v := range ReasonNames {
		if v == r {
			return n
		}
	}
	return fmt.Sprintf("reason(%d)", r)
}

// onlyRecord is the one record a lookup by serial found: ErrNotFound for
// none, and an error naming two issuers when no issuer was given and
// several CAs issued that serial.
func onlyRecord(found []Record, serial *big.Int) (Record, error) {
	switch len(found) {
	case 0:
		return Record{}, fmt.Errorf("serial %s: %w", SerialHex(serial), ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Record{}, fmt.Errorf("crl: serial %s is issued by several CAs (%s, %s); name the issuer", SerialHex(serial), found[0].Issuer, found[1].Issuer)
}
