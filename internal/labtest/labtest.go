// Package labtest builds real labs (through package ca, with a pinned clock)
// for the tests of crl and cmd. It is imported only from _test.go files.
package labtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// Lab makes a lab under a new temporary directory with base URL base
// ("" for the default) and opens it.
func Lab(t testing.TB, base string, spec *ca.LabSpec) *ca.Lab {
	t.Helper()
	// A copy: callers share spec values between tests (and run them in
	// parallel), so the base URL must not be written into theirs.
	var s ca.LabSpec
	if spec != nil {
		s = *spec
	}
	s.BaseURL = base
	spec = &s
	dir := filepath.Join(t.TempDir(), "lab")
	if _, err := ca.CreateLab(context.Background(), spec, ca.LabOptions{Out: dir, Clock: clock.Fixed(pkitest.At)}); err != nil {
		t.Fatalf("labtest: %v", err)
	}
	lab, err := ca.OpenLab(dir, nil)
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	return lab
}
