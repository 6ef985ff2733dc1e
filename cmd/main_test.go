package cmd

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// TestMain lets tests run cmgpki as a real separate process: the test binary
// re-executes itself with CMGPKI_TEST_MAIN_ARGS set and becomes cmgpki.
//
// The child runs as Main does, with one difference: its clock is the pinned
// test time pkitest.At (which it reads from the CMGPKI_TEST_NOW it inherits),
// like the in-process runCmd. Its CRLs, OCSP responses and revocation times
// then agree with the lab the test made at pinned time, and the test checks
// them at that time. Production code never reads this.
func TestMain(m *testing.M) {
	if v := os.Getenv("CMGPKI_TEST_MAIN_ARGS"); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			os.Exit(99)
		}
		f := defaultFactory()
		f.Clock = pkitest.Fixed()
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		code := run(ctx, f, args)
		stop()
		os.Exit(int(code))
	}
	os.Exit(m.Run())
}
