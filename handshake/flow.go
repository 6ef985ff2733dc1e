// Package handshake simulates the ConfigMgr client flow through a Cloud
// Management Gateway over real TLS on 127.0.0.1: the CMG, the CMG connection
// point, the management point, the Entra token service and the revocation
// server are real HTTPS (or HTTP) servers on loopback listeners; the client
// dials them by their real names through a name→address map, so certificates
// keep their names. The client's certificate decisions are verify's code.
//
// The result is a Flow (schema cmgpki/handshake/v1): one Step per stage of
// the documented flow (../shared/docs/cmg-flow.md) with component, simulated
// time, status, evidence (log lines in the documents' wording), the Windows
// error a client would log, a fix and the cmgpki command that proves it.
// The same value is meant to be produced by a future log diagnosis.
//
// What is modelled rather than copied (not public): the CMG ↔ connection point
// channel (an in-process call here: the CMG hands the request to the
// connection point, which calls the MP over mutual TLS), the CCM token (an
// ES256 JWT signed by a site key, aud urn:sccm:service), the replies (plain
// XML, not zlib) and the location and policy payloads (minimal). CCM
// messages are CCM_POST multipart bodies as public re-implementations
// document them, and the registration request is signed and verified.
package handshake

import (
	"fmt"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// Schema is the schema string of Flow and Matrix.
const Schema = "cmgpki/handshake/v1"

// Status is the outcome of a step.
type Status string

// Step statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Step IDs, in flow order.
const (
	StepCMGTLS      = "cmg-tls"           // 1: TLS to the CMG, server certificate checked by the client
	StepAADInfo     = "aad-info"          // 1: AADAuthInfo from the CMG
	StepAuth        = "auth-choice"       // 2: PKI client certificate, else device token, else user token
	StepCCMToken    = "ccm-token"         // 3: CCM token through CMG, connection point and MP
	StepLocation    = "location"          // 4: site information (location request)
	StepRegister    = "registration"      // 5-8: client registration
	StepRenewal     = "token-renewal"     // 9: CCM token renewal after 8 hours
	StepSecSettings = "security-settings" // location services refresh the site's CRL setting
)

// Components.
const (
	CompClient = "client"
	CompCMG    = "cmg"
	CompCP     = "connection-point"
	CompMP     = "management-point"
	CompEntra  = "entra"
)

// Step is one stage of the flow.
type Step struct {
	ID        string    `json:"step"`
	Component string    `json:"component"`
	Time      time.Time `json:"time"`
	Status    Status    `json:"result"`
	Detail    string    `json:"detail"`
	// Evidence is the log lines of the stage, in the wording of the
	// documented logs (file: line).
	Evidence []string      `json:"evidence,omitempty"`
	Windows  lint.WinError `json:"windows_error,omitzero"`
	// HTTP is the refusal a component answered with ("HTTP 403
	// CMGConnector_Clientcertificaterequired"), "" when none.
	HTTP string `json:"http,omitempty"`
	Fix  string `json:"fix,omitempty"`
	// Proof is the cmgpki command that proves the stage's certificate
	// decision on its own, where one applies.
	Proof string `json:"proof,omitempty"`
}

// Flow is one run of the client flow.
type Flow struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario,omitempty"`
	// Result is Pass when every step passed or was skipped.
	Result Status `json:"result"`
	// FailingStep is the ID of the first failed step, "" when none.
	FailingStep string        `json:"failing_step,omitempty"`
	Code        lint.WinError `json:"windows_error,omitzero"`
	Notes       []string      `json:"notes,omitempty"`
	Steps       []Step        `json:"steps"`
	// Log is every component's log lines in order (WriteLogs writes them
	// in the real formats); not part of the JSON.
	Log []LogLine `json:"-"`
}

// LogLine is one line of a component's log.
type LogLine struct {
	File string // the log file, such as ccmsetup.log
	Time time.Time
	Text string
}

// Step returns the step with the given ID, nil when absent.
func (f *Flow) Step(id string) *Step {
	for i := range f.Steps {
		if f.Steps[i].ID == id {
			return &f.Steps[i]
		}
	}
	return nil
}

func (f *Flow) add(s Step) *Step {
	f.Steps = append(f.Steps, s)
	return &f.Steps[len(f.Steps)-1]
}

func (f *Flow) finish() {
	f.FailingStep, f.Code = "", lint.WinError{}
	for _, s := range f.Steps {
		if s.Status == Fail {
			f.FailingStep, f.Code = s.ID, s.Windows
			break
		}
	}
	f.Result = Pass
	if f.FailingStep != "" {
		f.Result = Fail
	}
}

// CodeText is the failing step's Windows error, else its HTTP refusal, else "".
func CodeText(steps []Step) string {
	for _, s := range steps {
		if s.Status != Fail {
			continue
		}
		if !s.Windows.IsZero() {
			return fmt.Sprintf("%s 0x%08X", s.Windows.Name, s.Windows.HRESULT)
		}
		return s.HTTP
	}
	return ""
}

// ScenarioResult is one row of the matrix.
type ScenarioResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Expected    Status `json:"expected"`
	Got         Status `json:"got"`
	// ExpectedStep is the step the scenario is expected to fail at.
	ExpectedStep string `json:"expected_failing_step,omitempty"`
	FailingStep  string `json:"failing_step,omitempty"`
	// Code is the failing step's Windows error ("CERT_E_UNTRUSTEDROOT
	// 0x800B0109") or HTTP refusal ("HTTP 403 ..."), "" when none.
	Code    string        `json:"code,omitempty"`
	Windows lint.WinError `json:"windows_error,omitzero"`
	Steps   []Step        `json:"steps"`
	Notes   []string      `json:"notes,omitempty"`
	Log     []LogLine     `json:"-"`
}

// AsExpected reports whether the scenario gave its expected outcome and
// failed (if it failed) at the expected step.
func (r *ScenarioResult) AsExpected() bool {
	return r.Expected == r.Got && r.ExpectedStep == r.FailingStep
}

// Matrix is the result of running scenarios.
type Matrix struct {
	Schema    string           `json:"schema"`
	Scenarios []ScenarioResult `json:"scenarios"`
}
