package cmd

import (
	"encoding/json"
	"os"
	"testing"
)

// TestMain lets tests run cmgpki as a real separate process: the test binary
// re-executes itself with CMGPKI_TEST_MAIN_ARGS set and becomes cmgpki.
func TestMain(m *testing.M) {
	if v := os.Getenv("CMGPKI_TEST_MAIN_ARGS"); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			os.Exit(99)
		}
		os.Exit(int(Main(args)))
	}
	os.Exit(m.Run())
}
