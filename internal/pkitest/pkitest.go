// Package pkitest holds test helpers shared by package tests: the openssl
// runner and a pinned time. It is imported only from _test.go files.
package pkitest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// At is the pinned "now" of tests.
var At = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// OpenSSL returns the openssl binary. Where it is missing the test is
// skipped locally and fails under CI (CI=true), where .ci/run installs it.
func OpenSSL(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed; .ci/run must install it")
		}
		t.Skip("openssl not installed")
	}
	return p
}

// Run runs openssl with args and returns combined output and the error.
func Run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(OpenSSL(t), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun runs openssl and fails the test on a non-zero exit.
func MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := Run(t, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
