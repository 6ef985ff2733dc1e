package ca

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
)

// RandomSerial returns a positive 128-bit serial from r: 16 bytes with the top
// bit cleared so the DER INTEGER stays 16 bytes, never zero.
func RandomSerial(r io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("ca: reading serial randomness: %w", err)
	}
	return serialFrom(b), nil
}

// DerivedSerial returns a serial derived from the given parts (the lab spec's
// identity of one certificate), so reproducible runs repeat it.
func DerivedSerial(parts ...string) *big.Int {
	h := sha256.New()
	io.WriteString(h, "cmgpki/serial/v1")
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%d:%s", len(p), p)
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	return serialFrom(b)
}

func serialFrom(b [16]byte) *big.Int {
	b[0] &= 0x7f
	b[0] |= 0x40 // keep 16 significant bytes: fixed-width hex, never zero
	return new(big.Int).SetBytes(b[:])
}
