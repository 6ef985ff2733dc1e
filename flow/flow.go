// Package flow holds the flow run: the one result value of both the
// handshake simulator (cmgpki/handshake/v1) and log diagnosis
// (cmgpki/diagnose/v1). A run is the documented ConfigMgr client flow
// through a Cloud Management Gateway (../shared/docs/cmg-flow.md), one Step
// per stage, each with the component that decided it, its time, status,
// evidence, the Windows error a client logs, a fix and the cmgpki command
// that proves it. cmd renders it as a table, JSON or an HTML report.
package flow

import (
	"fmt"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// Status is the outcome of a step.
type Status string

// Step statuses. Skip is a step that did not run (simulator) or was never
// seen in the logs (diagnosis); Detail says which.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Step IDs, in flow order (cmg-flow.md section numbers in the comments).
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

// StepOrder is the order of the steps in a run.
var StepOrder = []string{StepCMGTLS, StepAADInfo, StepAuth, StepCCMToken, StepLocation, StepRegister, StepRenewal, StepSecSettings}

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
	Time      time.Time `json:"time,omitzero"`
	Status    Status    `json:"result"`
	Detail    string    `json:"detail"`
	// Evidence is the log lines of the stage, in the wording of the
	// documented logs (file: line, or file:N: line when read from a file).
	Evidence []string      `json:"evidence,omitempty"`
	Windows  lint.WinError `json:"windows_error,omitzero"`
	// HTTP is the refusal a component answered with ("HTTP 403
	// CMGConnector_Clientcertificaterequired"), "" when none.
	HTTP string `json:"http,omitempty"`
	Fix  string `json:"fix,omitempty"`
	// Proof is the cmgpki command that proves the stage's certificate
	// decision on its own, where one applies.
	Proof string `json:"proof,omitempty"`
	// TLS is every TLS connection the stage made, with the chains presented
	// and the verifier's judgement of each element. The simulator fills it;
	// logs do not carry certificates, so diagnosis leaves it empty.
	TLS []Hop `json:"tls,omitempty"`
}

// Hop is one TLS connection between two components.
type Hop struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Server is the chain the server presented, leaf first, as the client
	// built it (with the root when the path reached one).
	Server []ChainCert `json:"server_chain,omitempty"`
	// Client is the chain the client presented (mutual TLS), leaf first.
	Client  []ChainCert `json:"client_chain,omitempty"`
	Version string      `json:"tls_version,omitempty"` // "TLS 1.3"; "" when the handshake did not complete
	Cipher  string      `json:"cipher,omitempty"`
}

// ChainCert is one element of a chain. Names are rendered as certutil
// prints them; Status is the trust status as the verifier judged it: "OK",
// the CERT_TRUST_ flags without their prefix ("IS_REVOKED|..."), or ""
// when no verifier judged the element (a certificate only presented).
type ChainCert struct {
	Subject        string `json:"subject"`
	Issuer         string `json:"issuer"`
	SHA1Thumbprint string `json:"thumbprint_sha1"`
	NotAfter       string `json:"not_after"` // RFC 3339, UTC
	Status         string `json:"status,omitempty"`
}

// Failed reports whether Status holds a trust error.
func (c ChainCert) Failed() bool { return c.Status != "" && c.Status != "OK" }

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
	// Log is every component's log lines in order (the simulator writes
	// them in the real formats); not part of the JSON.
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

// Add appends a step and returns it.
func (f *Flow) Add(s Step) *Step {
	f.Steps = append(f.Steps, s)
	return &f.Steps[len(f.Steps)-1]
}

// Finish sets Result, FailingStep and Code from the steps: the first failed
// step in order decides.
func (f *Flow) Finish() {
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
