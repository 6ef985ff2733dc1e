package diagnose

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/flow"
)

// stepTitles say what each step is, for details.
var stepTitles = map[string]string{
	flow.StepCMGTLS:      "TLS to the CMG (the client checks the CMG server certificate)",
	flow.StepAADInfo:     "AAD information from the CMG (AADAuthInfo)",
	flow.StepAuth:        "Entra token (device, then user) or PKI client certificate",
	flow.StepCCMToken:    "CCM token through CMG, connection point and MP (CCM_STS)",
	flow.StepLocation:    "site information and content location",
	flow.StepRegister:    "client registration (MP_ClientRegistration)",
	flow.StepRenewal:     "CCM token renewal (CcmMessaging)",
	flow.StepSecSettings: "security settings refresh (location services)",
}

var stepComp = map[string]string{
	flow.StepCMGTLS: flow.CompClient, flow.StepAADInfo: flow.CompCMG, flow.StepAuth: flow.CompEntra,
	flow.StepCCMToken: flow.CompMP, flow.StepLocation: flow.CompMP, flow.StepRegister: flow.CompMP,
	flow.StepRenewal: flow.CompClient, flow.StepSecSettings: flow.CompClient,
}

// Result builds the diagnosis from what was read so far.
func (a *Analyzer) Result() *Result {
	res := &Result{Flow: flow.Flow{Schema: Schema}, Inputs: a.inputs, Warnings: a.warnings, Findings: []Finding{}}
	res.Names = map[string]string{}
	for k, v := range a.names {
		res.Names[k] = v
	}
	// Findings: fired signatures, minus those a more specific one supersedes.
	fired := map[string]*sigState{}
	for _, st := range a.sigs {
		ok := st.count > 0 && !st.absent
		for _, seen := range st.also {
			ok = ok && seen
		}
		if ok {
			fired[st.sig.ID] = st
		}
	}
	for _, st := range fired {
		for _, id := range st.sig.Supersedes {
			delete(fired, id)
		}
	}
	for _, st := range a.sigs {
		if fired[st.sig.ID] == nil {
			continue
		}
		s := st.sig
		f := Finding{ID: s.ID, Title: s.Title, Step: s.Step, Component: s.Component, Level: "fail",
			Windows: s.Windows, HTTP: s.HTTP, Cause: s.Cause, Fix: s.Fix, NotCert: s.NotCert, Citation: s.Citation}
		first := time.Time{}
		for _, h := range st.hits {
			if first.IsZero() || (!h.Time.IsZero() && h.Time.Before(first)) {
				first = h.Time
			}
		}
		if st.recovered && (first.IsZero() || st.recoveredAt.IsZero() || !st.recoveredAt.Before(first)) {
			f.Level = "warn"
		}
		f.Evidence = st.hits
		if len(f.Evidence) > maxEvidence {
			f.Evidence = f.Evidence[:maxEvidence]
		}
		if st.count > st.shown {
			f.Cause += fmt.Sprintf(" (seen %d times; the first %d are shown)", st.count, st.shown)
		}
		for _, h := range st.hits {
			if f.Time.IsZero() || (!h.Time.IsZero() && h.Time.Before(f.Time)) {
				f.Time = h.Time
			}
		}
		vars := map[string]string{}
		for k, v := range a.names {
			vars[k] = v
		}
		seen := map[string]bool{}
		for _, e := range f.Evidence {
			if u := reURL.FindString(e.Text); u != "" && vars["url"] == "" {
				vars["url"] = u
			}
			for _, c := range DecodeCodes(e.Text) {
				if !seen[c.Kind+c.Code] {
					seen[c.Kind+c.Code] = true
					f.Codes = append(f.Codes, c)
				}
			}
		}
		f.Proof = fill(s.Proof, vars)
		if f.HTTP == "" {
			for _, e := range f.Evidence {
				if h := httpStatus(e.Text); h != "" {
					f.HTTP = h
					break
				}
			}
		}
		res.Findings = append(res.Findings, f)
	}
	// Secure-failure status lines decode to every flag: attach them to the
	// TLS findings even when the flag value sits on its own line.
	sort.SliceStable(res.Findings, func(i, j int) bool {
		fi, fj := res.Findings[i], res.Findings[j]
		if fi.Level != fj.Level {
			return fi.Level == "fail"
		}
		if !fi.Time.Equal(fj.Time) && !fi.Time.IsZero() && !fj.Time.IsZero() {
			return fi.Time.Before(fj.Time)
		}
		return stepIndex(fi.Step) < stepIndex(fj.Step)
	})

	// A step's request URI in the evidence decides the step where the
	// signature says so.
	for i := range res.Findings {
		f := &res.Findings[i]
		if !sigByID(a.sigs, f.ID).StepFromURI {
			continue
		}
		for _, e := range f.Evidence {
			if id := stepForURI(e.Text); id != "" {
				f.Step = id
				break
			}
		}
	}
	// Completions that count only after the step started.
	for _, id := range flow.StepOrder {
		ss := a.steps[id]
		for _, t := range ss.pendingDone {
			if ss.started && (t.IsZero() || ss.startAt.IsZero() || !t.Before(ss.startAt)) {
				ss.done = true
			}
		}
	}
	// The flow.
	for _, id := range flow.StepOrder {
		ss := a.steps[id]
		st := flow.Step{ID: id, Component: stepComp[id], Time: ss.first}
		for _, e := range ss.evidence {
			st.Evidence = append(st.Evidence, e.String())
		}
		var fail *Finding
		for i := range res.Findings {
			if res.Findings[i].Step == id && res.Findings[i].Level == "fail" {
				fail = &res.Findings[i]
				break
			}
		}
		switch {
		case fail != nil:
			st.Status = flow.Fail
			st.Component = fail.Component
			st.Detail = fmt.Sprintf("%s: %s [%s]", stepTitles[id], fail.Title, fail.ID)
			st.Windows, st.HTTP, st.Fix, st.Proof = fail.Windows, fail.HTTP, fail.Fix, fail.Proof
			if st.Time.IsZero() || (!fail.Time.IsZero() && fail.Time.Before(st.Time)) {
				st.Time = fail.Time
			}
			for _, e := range fail.Evidence {
				st.Evidence = append(st.Evidence, e.String())
			}
		case ss.done:
			st.Status = flow.Pass
			st.Detail = stepTitles[id] + ": completed" + seenAt(ss)
		case ss.started:
			st.Status = flow.Skip
			st.Detail = stepTitles[id] + ": started, no completion line in the logs" + seenAt(ss)
		default:
			st.Status = flow.Skip
			st.Detail = stepTitles[id] + ": never started (no line of this step in the logs)"
		}
		if id == flow.StepCCMToken {
			if h := a.sts.summary(); h != "" {
				st.Detail += "; " + h
			}
		}
		res.Steps = append(res.Steps, st)
	}
	// A later step that completed proves an earlier one that logs no
	// completion line of its own (the TLS to the CMG, AAD info).
	for i := range res.Steps {
		if res.Steps[i].Status != flow.Skip || !a.steps[res.Steps[i].ID].started {
			continue
		}
		for _, later := range res.Steps[i+1:] {
			if later.Status == flow.Pass {
				res.Steps[i].Status = flow.Pass
				res.Steps[i].Detail = stepTitles[res.Steps[i].ID] + ": passed (a later step through the CMG completed)" + seenAt(a.steps[res.Steps[i].ID])
				break
			}
		}
	}
	for _, f := range res.Findings {
		switch {
		case f.Level == "warn":
			res.Notes = append(res.Notes, fmt.Sprintf("warning %s: %s (the client got past it)", f.ID, f.Title))
		case f.Step == "":
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %s (outside the client flow)", f.ID, f.Title))
		}
	}
	res.Finish()
	if res.Result == flow.Pass && res.Failed() {
		res.Result = flow.Fail
	}
	res.Missing = a.missing(res)
	return res
}

func seenAt(ss *stepState) string {
	var c []string
	for _, k := range []string{flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP, flow.CompEntra} {
		if ss.comps[k] {
			c = append(c, k)
		}
	}
	if len(c) < 2 {
		return ""
	}
	return "; seen at " + strings.Join(c, ", ")
}

func stepIndex(id string) int {
	for i, s := range flow.StepOrder {
		if s == id {
			return i
		}
	}
	return len(flow.StepOrder)
}

func (a *Analyzer) has(sub string) bool {
	for f := range a.files {
		if strings.Contains(f, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

// missing says what the logs lack to decide further.
func (a *Analyzer) missing(res *Result) []string {
	var out []string
	cpFault := false
	for _, f := range res.Findings {
		if f.Component == flow.CompCP || strings.Contains(f.HTTP, "CMGConnector_") {
			cpFault = true
		}
	}
	verboseCP := false
	for _, st := range a.sigs {
		if st.sig.ID == "F17v" && st.count > 0 {
			verboseCP = true
		}
	}
	if cpFault && !verboseCP {
		out = append(out, "SMS_CLOUD_PROXYCONNECTOR.log needs verbose logging to show the connection point's certificate filter and URL rewrites: set HKLM\\SOFTWARE\\Microsoft\\SMS\\SMS_CLOUD_PROXYCONNECTOR VerboseLogging=1 (DWORD) on the connection point server, reproduce, and add the log")
	}
	ccm := res.Step(flow.StepCCMToken)
	if ccm != nil && ccm.Status != flow.Pass && a.steps[flow.StepCCMToken].started && !a.has("ccm_sts") {
		out = append(out, "CCM_STS.log from the management point (SMS_CCM\\Logs) shows whether the CCM token request reached the MP and why it was refused")
	}
	if a.steps[flow.StepCCMToken].started && !a.has("cmgservice") {
		out = append(out, "CMGService.log of the CMG (synced to the site server's Logs as CMG-<name>-ProxyService_IN_<n>-CMGService.log) shows the requests the CMG forwarded")
	}
	if !a.has("ccmsetup") && !a.has("locationservices") && !a.has("ccmmessaging") && !a.has("clientidmanagerstartup") {
		out = append(out, "no client log was given: add the client's C:\\Windows\\ccmsetup\\Logs and C:\\Windows\\CCM\\Logs (ccmsetup.log, LocationServices.log, CcmMessaging.log, ClientIDManagerStartup.log, ADALOperationProvider.log)")
	}
	for _, f := range res.Findings {
		if f.ID == "F02" || f.ID == "F03" {
			out = append(out, "the client logs cannot tell an unpublished CRL (F02) from a proxy that blocks SYSTEM's CRL fetch (F04) or a wrong clock (F29): run certutil -verify -urlfetch as SYSTEM on the client (psexec -s) and check netsh winhttp show proxy and w32tm /query /status")
			break
		}
	}
	for _, f := range res.Findings {
		if f.ID == "F01" {
			out = append(out, "INVALID_CA does not say whether the root or an intermediate is missing (F01 or F15): run certutil -verify -urlfetch on the exported CMG certificate on the client")
			break
		}
	}
	return out
}

func sigByID(sigs []*sigState, id string) Signature {
	for _, st := range sigs {
		if st.sig.ID == id {
			return st.sig
		}
	}
	return Signature{}
}

// stepForURI maps a request URI in a log line to the flow step it serves.
func stepForURI(text string) string {
	u := strings.ToUpper(text)
	switch {
	case strings.Contains(u, "/CCM_STS"):
		return flow.StepCCMToken
	case strings.Contains(u, "AADAUTHINFO"):
		return flow.StepAADInfo
	case strings.Contains(u, "/SMS_MP/.SMS_AUT"), strings.Contains(u, "/CCM_SYSTEM/REQUEST"), strings.Contains(u, "CCM_SYSTEM_TOKENAUTH/REQUEST"):
		return flow.StepLocation
	}
	return ""
}

var (
	reStatusText = regexp.MustCompile(`StatusCode=\s?([45]\d\d) StatusText=\s?(\w+)`)
	reStatus     = regexp.MustCompile(`(?:Status: |HTTP |HTTP/1\.1 |\()([45]\d\d)\b`)
)

// httpStatus finds a refusal in a log line: "HTTP 403 CMGConnector_Forbidden"
// from StatusCode/StatusText, else "HTTP 404" from "Status: 404", "HTTP 404",
// "HTTP/1.1 403" or "(403)".
func httpStatus(text string) string {
	if m := reStatusText.FindStringSubmatch(text); m != nil {
		return "HTTP " + m[1] + " " + m[2]
	}
	if m := reStatus.FindStringSubmatch(text); m != nil {
		return "HTTP " + m[1]
	}
	return ""
}
