package cmd

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cmgpki/cmgpki/diagnose"
	"github.com/cmgpki/cmgpki/flow"
)

// TestDiagnoseHandshakeRoundTrip: every handshake scenario's --logs output
// is diagnosed to that scenario's result, failing step and Windows error
// (or HTTP refusal); the happy paths are diagnosed with no failure. The two
// halves of the flow run test each other.
func TestDiagnoseHandshakeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", lab); r.code != ExitOK {
		t.Fatalf("lab create: exit %d: %s", r.code, r.errOut)
	}
	logs := filepath.Join(dir, "logs")
	r := runCmd(t, nil, "handshake", "--lab", lab, "--scenario", "all", "--logs", logs, "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("handshake: exit %d: %s", r.code, r.errOut)
	}
	var mx struct {
		Scenarios []struct {
			Name        string
			Got         flow.Status `json:"got"`
			FailingStep string      `json:"failing_step"`
			Code        string      `json:"code"`
			Steps       []flow.Step `json:"steps"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(r.out), &mx); err != nil || len(mx.Scenarios) == 0 {
		t.Fatalf("matrix: %v", err)
	}
	for _, sc := range mx.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			res, err := diagnose.Diagnose(context.Background(), []string{filepath.Join(logs, sc.Name)}, diagnose.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range res.Findings {
				ids = append(ids, f.ID+":"+f.Level)
			}
			if res.Result != sc.Got || res.FailingStep != sc.FailingStep {
				t.Fatalf("diagnosed %s at %q (findings %v), simulator %s at %q (%s)", res.Result, res.FailingStep, ids, sc.Got, sc.FailingStep, sc.Code)
			}
			if sc.Got == flow.Pass {
				for _, s := range res.Steps {
					if s.Status == flow.Fail {
						t.Errorf("step %s failed in a passing scenario: %s", s.ID, s.Detail)
					}
				}
				return
			}
			st := res.Step(res.FailingStep)
			got := flow.CodeText(res.Steps)
			if got != sc.Code && !sameHTTPStatus(st.HTTP, sc.Code) {
				t.Errorf("code %q (HTTP %q), simulator %q (findings %v)", got, st.HTTP, sc.Code, ids)
			}
		})
	}
}

// sameHTTPStatus: "HTTP 403 X" and "HTTP 403 Y" name the same refusal
// when the logs carry only the status.
func sameHTTPStatus(a, b string) bool {
	return len(a) >= 8 && len(b) >= 8 && a[:8] == b[:8] && a[:5] == "HTTP "
}
