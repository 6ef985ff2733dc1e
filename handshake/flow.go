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
	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/lint"
)

// Schema is the schema string of Flow and Matrix.
const Schema = "cmgpki/handshake/v1"

// The flow run is package flow's value, shared with diagnose (DESIGN.md: a
// flow run is one value for both); these names keep handshake's API.
type (
	Status  = flow.Status
	Step    = flow.Step
	Flow    = flow.Flow
	LogLine = flow.LogLine
)

// Step statuses.
const (
	Pass = flow.Pass
	Fail = flow.Fail
	Skip = flow.Skip
)

// Step IDs, in flow order.
const (
	StepCMGTLS      = flow.StepCMGTLS
	StepAADInfo     = flow.StepAADInfo
	StepAuth        = flow.StepAuth
	StepCCMToken    = flow.StepCCMToken
	StepLocation    = flow.StepLocation
	StepRegister    = flow.StepRegister
	StepRenewal     = flow.StepRenewal
	StepSecSettings = flow.StepSecSettings
)

// Components.
const (
	CompClient = flow.CompClient
	CompCMG    = flow.CompCMG
	CompCP     = flow.CompCP
	CompMP     = flow.CompMP
	CompEntra  = flow.CompEntra
)

// CodeText is the failing step's Windows error, else its HTTP refusal, else "".
func CodeText(steps []Step) string { return flow.CodeText(steps) }

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
