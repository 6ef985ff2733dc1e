// Package pkitest holds test helpers shared by package tests: the openssl
// runner and a pinned time. It is imported only from _test.go files.
//
// # The pinned time
//
// Tests make their certificates, CRLs and OCSP responses at At and check them
// at At: openssl with "-attime" AtUnix(), x509.VerifyOptions{CurrentTime: At},
// tls.Config{Time: ...}. Nothing made at At may be handed to a checker that
// reads the real clock. CMGPKI_TEST_NOW (RFC 3339) moves At, so that a run
// with it set years away from the real date shows at once any test that
// still mixes the two clocks; .ci/run does such a run.
package pkitest

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/clock"
)

// EnvNow names the environment variable that overrides At (RFC 3339).
const EnvNow = "CMGPKI_TEST_NOW"

// Default is the pinned time when CMGPKI_TEST_NOW is unset.
var Default = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// At is the pinned "now" of tests: CMGPKI_TEST_NOW when set, else Default.
// It is in UTC and whole seconds, as certificates and CRLs store times.
var At = mustAt(os.Getenv(EnvNow))

// mustAt parses the CMGPKI_TEST_NOW value v. An invalid value stops the test
// binary at once: a suite that silently fell back to Default would prove
// nothing about the date it was asked to run at.
func mustAt(v string) time.Time {
	t, err := parseAt(v)
	if err != nil {
		panic(err)
	}
	return t
}

func parseAt(v string) (time.Time, error) {
	if v == "" {
		return Default, nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("pkitest: %s=%q is not an RFC 3339 time such as 2026-11-22T08:00:00Z: %w", EnvNow, v, err)
	}
	if y := t.UTC().Year(); y < 1951 || y > 2200 {
		// Certificates made at At reach 10 years beyond it; UTCTime ends
		// in 2049, GeneralizedTime takes over, but the year must stay sane.
		return time.Time{}, fmt.Errorf("pkitest: %s=%q: year %d is out of the range 1951-2200", EnvNow, v, y)
	}
	return t.UTC().Truncate(time.Second), nil
}

// AtUnix is At in Unix seconds, for openssl's -attime.
func AtUnix() string { return strconv.FormatInt(At.Unix(), 10) }

// AtUnixPlus is At+d in Unix seconds, for openssl's -attime when the
// artifact's own time is At (a CRL's thisUpdate) and the check must be a
// little after it.
func AtUnixPlus(d time.Duration) string { return strconv.FormatInt(At.Add(d).Unix(), 10) }

// Clock returns a settable clock at At.
func Clock() *clock.Fake { return clock.NewFake(At) }

// Fixed returns a clock that always reads At.
func Fixed() clock.Clock { return clock.Fixed(At) }

// OCSPValidityPeriod is a value for "openssl ocsp -validity_period" that
// accepts a response made at the pinned time when openssl checks it now.
//
// openssl ocsp checks a response's thisUpdate and nextUpdate against the real
// clock only (OCSP_check_validity; -attime reaches the chain verification
// alone). This returns the distance between the real now and At plus the
// default 5 minutes, so openssl still verifies the signature, the responder
// and its chain (at -attime) and reports the status, while the test itself
// asserts thisUpdate and nextUpdate against At. That distance is the one
// thing here read from the real clock, and it never decides a result.
func OCSPValidityPeriod() string {
	d := clock.Real{}.Now().Sub(At)
	if d < 0 {
		d = -d
	}
	return strconv.FormatInt(int64((d+5*time.Minute)/time.Second), 10)
}

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
// It fails the test, without running openssl, when args would check times
// against the real clock (see CheckTimeArgs).
func Run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	if err := CheckTimeArgs(args); err != nil {
		t.Fatal(err)
	}
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

// CheckTimeArgs reports an openssl command line that would check validity
// times against the real clock, where tests' artifacts are made at At:
//   - verify and s_client without -attime (or -no_check_time);
//   - ocsp checking a response (-respin or -url, without -noverify) without
//     both -attime, for the chain, and -validity_period, for the response's
//     own times, which openssl compares with the real clock only.
//
// Commands that check no times (x509, crl, pkcs12, asn1parse, ocsp -reqout)
// pass.
func CheckTimeArgs(args []string) error {
	if len(args) == 0 {
		return nil
	}
	has := func(flag string) bool {
		for _, a := range args {
			if a == flag {
				return true
			}
		}
		return false
	}
	pinned := has("-attime") || has("-no_check_time")
	switch args[0] {
	case "verify", "s_client":
		if !pinned {
			return fmt.Errorf("pkitest: openssl %s without -attime checks at the real clock; pass -attime pkitest.AtUnix()", args[0])
		}
	case "ocsp":
		if (has("-respin") || has("-url")) && !has("-noverify") && (!pinned || !has("-validity_period")) {
			return fmt.Errorf("pkitest: openssl ocsp checking a response needs -attime pkitest.AtUnix() and -validity_period pkitest.OCSPValidityPeriod(); it checks the response's times against the real clock")
		}
	}
	return nil
}

// Certificate signs tpl with signer under parent (x509.CreateCertificate
// with crypto/rand) and returns it parsed; any error fails t.
func Certificate(t testing.TB, tpl, parent *x509.Certificate, pub, signer any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
