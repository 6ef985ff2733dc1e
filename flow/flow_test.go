package flow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/lint"
)

func TestFinishFirstFailureDecides(t *testing.T) {
	f := Flow{Schema: "x"}
	f.Add(Step{ID: StepCMGTLS, Status: Pass})
	f.Add(Step{ID: StepCCMToken, Status: Fail, HTTP: "HTTP 401 CMGService_Invalid_Token"})
	f.Add(Step{ID: StepLocation, Status: Fail, Windows: lint.UntrustedRoot})
	f.Finish()
	if f.Result != Fail || f.FailingStep != StepCCMToken || !f.Code.IsZero() {
		t.Errorf("got %s %s %v", f.Result, f.FailingStep, f.Code)
	}
	if got := CodeText(f.Steps); got != "HTTP 401 CMGService_Invalid_Token" {
		t.Errorf("CodeText = %q", got)
	}
	if f.Step(StepLocation).Windows != lint.UntrustedRoot || f.Step("nope") != nil {
		t.Error("Step lookup")
	}
	f = Flow{}
	f.Add(Step{ID: StepCMGTLS, Status: Skip})
	f.Finish()
	if f.Result != Pass || f.FailingStep != "" {
		t.Errorf("all skipped: %s %q", f.Result, f.FailingStep)
	}
}

// TestJSONFieldNames pins the JSON of a step: handshake/v1 and
// diagnose/v1 share it.
func TestJSONFieldNames(t *testing.T) {
	b, _ := json.Marshal(Step{ID: StepCMGTLS, Component: CompClient, Status: Fail, Windows: lint.RevocationOffline, Evidence: []string{"a"}})
	for _, k := range []string{`"step":"cmg-tls"`, `"component":"client"`, `"result":"fail"`, `"windows_error":{"name":"CRYPT_E_REVOCATION_OFFLINE","hresult":"0x80092013","winhttp":12057}`, `"evidence":["a"]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}
