package handshake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// Tests build their lab through ca (as internal/labtest does); the
	// package itself never imports ca.
	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

var (
	testLab string
	testMat *Materials
	// start is the simulated start: an hour after the lab was made.
	simStart = pkitest.At.Add(time.Hour)
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "handshake-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testLab = filepath.Join(dir, "lab")
	if _, err := ca.CreateLab(context.Background(), &ca.LabSpec{}, ca.LabOptions{Out: testLab, Clock: clock.Fixed(pkitest.At)}); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
	if testMat, err = Load(testLab, nil); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t testing.TB, name string, o Options) *Flow {
	t.Helper()
	if o.At.IsZero() {
		o.At = simStart
	}
	f, err := Run(context.Background(), testMat, name, o)
	if err != nil {
		t.Fatalf("Run(%s): %v", name, err)
	}
	return f
}

func dump(t *testing.T, f *Flow) {
	t.Helper()
	for _, s := range f.Steps {
		t.Logf("%-18s %-16s %-4s %s | %v", s.ID, s.Component, s.Status, s.Detail, s.Windows)
		for _, ev := range s.Evidence {
			t.Logf("      %s", ev)
		}
	}
}

func TestHandshakeHappyPath(t *testing.T) {
	f := run(t, Happy, Options{})
	if f.Schema != Schema || f.Result != Pass || f.FailingStep != "" {
		dump(t, f)
		t.Fatalf("got result %s failing %q, want pass", f.Result, f.FailingStep)
	}
	want := []string{StepCMGTLS, StepAADInfo, StepAuth, StepCCMToken, StepLocation, StepRegister, StepRenewal, StepSecSettings}
	if len(f.Steps) != len(want) {
		t.Fatalf("got %d steps, want %d", len(f.Steps), len(want))
	}
	for i, id := range want {
		s := f.Steps[i]
		if s.ID != id || s.Status != Pass {
			dump(t, f)
			t.Fatalf("step %d = %s %s, want %s pass", i, s.ID, s.Status, id)
		}
	}
	if a := f.Step(StepAuth); !strings.HasPrefix(a.Detail, "device token from Entra") || a.Component != CompEntra {
		t.Errorf("auth step = %q, want the device token", a.Detail)
	}
	if r := f.Step(StepRenewal); !strings.Contains(r.Detail, "renewed until") {
		t.Errorf("renewal step = %q", r.Detail)
	}
	if l := f.Step(StepRegister); !strings.Contains(l.Detail, "approval status 3") {
		t.Errorf("registration step = %q, want approval status 3", l.Detail)
	}
	for _, s := range f.Steps {
		if len(s.Evidence) == 0 {
			t.Errorf("step %s has no evidence", s.ID)
		}
	}
	if s := f.Step(StepCCMToken); !containsLine(s.Evidence, "SMS_CLOUD_PROXYCONNECTOR.log: Switched to internal URL. Replaced 'https://cmg.contoso.com/CCM_Proxy_MutualAuth/") ||
		!containsLine(s.Evidence, "CCM_STS.log: Validated AAD token. TokenType: Device") {
		dump(t, f)
		t.Errorf("ccm-token evidence lacks the connection point rewrite or the CCM_STS validation")
	}
}

func containsLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestHandshakeScenarios runs every scenario and asserts its outcome, its
// failing step and its Windows error.
func TestHandshakeScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			f := run(t, sc.Name, Options{})
			if f.Result != sc.Expected || f.FailingStep != sc.FailingStep || f.Code != sc.Code {
				dump(t, f)
				t.Fatalf("got %s at %q code %v, want %s at %q code %v", f.Result, f.FailingStep, f.Code, sc.Expected, sc.FailingStep, sc.Code)
			}
			if len(f.Steps) != 8 {
				t.Errorf("got %d steps, want all 8 (unreached ones skipped)", len(f.Steps))
			}
			if s := f.Step(f.FailingStep); s != nil && s.Fix == "" {
				t.Errorf("failing step %s has no fix", s.ID)
			}
		})
	}
}
