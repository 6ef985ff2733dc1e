package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/lint"
)

// Schema is the schema string of a diagnosis.
const Schema = "cmgpki/diagnose/v1"

// Limits on what a diagnosis keeps: memory stays bounded whatever the
// input size.
const (
	maxEvidence     = 8  // evidence lines kept per finding and per step
	maxWarnings     = 50 // reader warnings kept
	maxFindingsKept = 20 // occurrences of one signature kept (first ones)
)

// Evidence is one log line that supports a step or a finding.
type Evidence struct {
	File string    `json:"file"`
	Line int       `json:"line"`
	Time time.Time `json:"time,omitzero"`
	Text string    `json:"text"`
}

func (e Evidence) String() string {
	return fmt.Sprintf("%s:%d: %s", path.Base(strings.ReplaceAll(e.File, "\\", "/")), e.Line, e.Text)
}

// Finding is one recognised failure.
type Finding struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Step      string `json:"step,omitempty"`
	Component string `json:"component,omitempty"`
	// Level is "fail", or "warn" when the client got past it.
	Level    string        `json:"level"`
	Time     time.Time     `json:"time,omitzero"`
	Evidence []Evidence    `json:"evidence"`
	Codes    []Code        `json:"codes,omitempty"`
	Windows  lint.WinError `json:"windows_error,omitzero"`
	HTTP     string        `json:"http,omitempty"`
	Cause    string        `json:"cause"`
	Fix      string        `json:"fix"`
	Proof    string        `json:"proof,omitempty"`
	// NotCert marks a look-alike that is not a certificate fault.
	NotCert  bool   `json:"not_a_certificate_fault,omitempty"`
	Citation string `json:"citation"`
}

// Input is one log read.
type Input struct {
	File   string         `json:"file"`
	Lines  int            `json:"lines"`
	Format map[Format]int `json:"formats,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// Result is a diagnosis: a flow run (the same value the handshake
// simulator returns, schema cmgpki/diagnose/v1) with the findings that
// name the cause, what is missing to decide, and what was read.
type Result struct {
	flow.Flow
	Findings []Finding `json:"findings"`
	// Missing says what the logs lack to decide further.
	Missing []string `json:"missing,omitempty"`
	// Names are the names and URLs found in the logs (cmg, mp, tenant).
	Names    map[string]string `json:"names,omitempty"`
	Inputs   []Input           `json:"inputs"`
	Warnings []string          `json:"warnings,omitempty"`
}

// Failed reports whether a failure (not only warnings) was identified.
func (r *Result) Failed() bool {
	for _, f := range r.Findings {
		if f.Level == "fail" {
			return true
		}
	}
	return false
}

// Options tune a diagnosis.
type Options struct {
	// Location is the zone of plain-text timestamps (--tz); nil is UTC.
	Location *time.Location
	// Signatures replaces the built-in signatures when non-nil (tests).
	Signatures []Signature
}

// marker is a line that shows a flow step started or completed.
type marker struct {
	step, comp string
	p          Pattern
	done       bool // completes the step
	// afterStart: a completion that counts only at or after the step's
	// start (a cached token is the renewal only after "close to expire").
	afterStart bool
}

// markers are the documented lines of each step (cmg-flow.md).
var markers = []marker{
	{flow.StepCMGTLS, flow.CompClient, Pattern{Text: "Created connection on port 443"}, false, false},
	{flow.StepCMGTLS, flow.CompClient, Pattern{Text: "Enabled SSL revocation check."}, false, false},
	{flow.StepCMGTLS, flow.CompClient, Pattern{Text: "CcmTokenAuth="}, false, false},
	{flow.StepAADInfo, flow.CompClient, Pattern{Text: "Getting AAD info from CMG"}, false, false},
	{flow.StepAADInfo, flow.CompCMG, Pattern{Text: "AADAuthInfo?TenantID="}, false, false},
	{flow.StepAuth, flow.CompEntra, Pattern{Text: "Getting AAD (device) token"}, false, false},
	{flow.StepAuth, flow.CompEntra, Pattern{Text: "Getting AAD (user) token"}, false, false},
	{flow.StepAuth, flow.CompEntra, Pattern{Text: "Retrieved AAD token"}, true, false},
	{flow.StepAuth, flow.CompClient, Pattern{Text: "PKI client certificate"}, false, false},
	{flow.StepCCMToken, flow.CompClient, Pattern{Text: "Getting CCM Token from"}, false, false},
	{flow.StepCCMToken, flow.CompCMG, Pattern{File: "CMGService", Text: "/CCM_STS"}, false, false},
	{flow.StepCCMToken, flow.CompCP, Pattern{Text: "Switched to internal URL."}, false, false},
	{flow.StepCCMToken, flow.CompCP, Pattern{Text: "EndpointName: CCM_STS"}, false, false},
	{flow.StepCCMToken, flow.CompMP, Pattern{File: "CCM_STS", Text: "ProcessRequest - Start"}, false, false},
	{flow.StepCCMToken, flow.CompMP, Pattern{File: "CCM_STS", Text: "Validated AAD token."}, false, false},
	{flow.StepCCMToken, flow.CompMP, Pattern{File: "CCM_STS", Text: "Issued token"}, false, false},
	{flow.StepCCMToken, flow.CompClient, Pattern{File: "ccmsetup", Text: "Cached encrypted token for"}, true, false},
	{flow.StepCCMToken, flow.CompClient, Pattern{File: "ClientIDManagerStartup", Text: "Cached encrypted token for"}, true, false},
	{flow.StepLocation, flow.CompClient, Pattern{Text: "Sending location request"}, false, false},
	{flow.StepLocation, flow.CompClient, Pattern{Text: "ContentLocationRequest"}, false, false},
	{flow.StepLocation, flow.CompMP, Pattern{Text: "Received message '<SiteInfoReply"}, false, false},
	{flow.StepLocation, flow.CompMP, Pattern{Text: "Found a valid online MP"}, true, false},
	{flow.StepLocation, flow.CompClient, Pattern{Text: "Installing version "}, true, false},
	{flow.StepRegister, flow.CompClient, Pattern{Text: "[RegTask] - Starting registration"}, false, false},
	{flow.StepRegister, flow.CompClient, Pattern{Text: "Registering client using AAD auth."}, false, false},
	{flow.StepRegister, flow.CompMP, Pattern{Text: "Registering device using AAD auth"}, false, false},
	{flow.StepRegister, flow.CompMP, Pattern{Text: "Processing Registration request from Client"}, false, false},
	{flow.StepRegister, flow.CompClient, Pattern{Text: "[RegTask] - Client is registered."}, true, false},
	{flow.StepRenewal, flow.CompClient, Pattern{Text: "is already expired or close to expire"}, false, false},
	{flow.StepRenewal, flow.CompClient, Pattern{Text: "Cached encrypted token for"}, true, true},
	{flow.StepRenewal, flow.CompClient, Pattern{File: "CcmMessaging", Text: "got reply message"}, true, true},
	{flow.StepSecSettings, flow.CompClient, Pattern{File: "LocationServices", Text: "security settings"}, true, false},
}

// name extractors: cheap substring first, then a regexp.
var nameRules = []struct {
	key, text string
	re        *regexp.Regexp
}{
	{"cmg", "Getting AAD info from CMG '", regexp.MustCompile(`Getting AAD info from CMG '([^'/]+)`)},
	{"cmg", "Host=", regexp.MustCompile(`Host=([^,\s]+), Path=/(?i:CCM_Proxy)`)},
	{"cmg", "URL=https://", regexp.MustCompile(`URL=https://([^/:,\s]+)[^,\s]*/(?i:CCM_Proxy)`)},
	{"cmg", "Getting CCM Token from https://", regexp.MustCompile(`Getting CCM Token from https://([^/\s]+)/(?i:CCM_Proxy)`)},
	{"mp", "Incoming request URL: https://", regexp.MustCompile(`Incoming request URL: https://([^/\s]+)/`)},
	{"mp", "RequestURI: https://", regexp.MustCompile(`RequestURI: https://([^/\s]+)/`)},
	{"mp", "Switched to internal URL.", regexp.MustCompile(`with 'https://([^/']+)/`)},
	{"tenant", "TenantID=", regexp.MustCompile(`TenantID=([0-9a-fA-F-]{36})`)},
}

var reURL = regexp.MustCompile(`https://[^\s'",]+`)

type sigState struct {
	sig         Signature
	hits        []Evidence
	count       int
	shown       int       // matched lines kept in hits
	lastCtx     *Evidence // the last context line of the current file
	ctxUntil    int       // context lines up to this line number follow a hit
	ctxFile     string
	also        []bool
	absent      bool
	recovered   bool
	recoveredAt time.Time // the latest recovery line
}

type stepState struct {
	started, done bool
	first         time.Time
	startAt       time.Time // first start marker
	pendingDone   []time.Time
	comps         map[string]bool
	evidence      []Evidence
}

// Analyzer reads logs one after another and builds a Result. It keeps
// only bounded state: the matched lines, not the input.
type Analyzer struct {
	opt      Options
	sigs     []*sigState
	steps    map[string]*stepState
	names    map[string]string
	inputs   []Input
	warnings []string
	files    map[string]bool // lower-case base names read
	nwarn    int
	sts      *hopTrace
}

// NewAnalyzer returns an analyzer with the built-in signatures (or
// opt.Signatures).
func NewAnalyzer(opt Options) *Analyzer {
	sigs := opt.Signatures
	if sigs == nil {
		sigs = Signatures()
	}
	a := &Analyzer{opt: opt, steps: map[string]*stepState{}, names: map[string]string{}, files: map[string]bool{}, sts: newHopTrace()}
	for _, s := range sigs {
		a.sigs = append(a.sigs, &sigState{sig: s, also: make([]bool, len(s.Also))})
	}
	for _, id := range flow.StepOrder {
		a.steps[id] = &stepState{comps: map[string]bool{}}
	}
	return a
}

func (a *Analyzer) warn(msg string) {
	a.nwarn++
	if len(a.warnings) < maxWarnings {
		a.warnings = append(a.warnings, msg)
	} else if len(a.warnings) == maxWarnings {
		a.warnings = append(a.warnings, "more warnings left out")
	}
}

type check struct {
	p    Pattern
	fire func(Line)
}

// Read reads one log. A log that cannot be read is recorded in the
// result's inputs with its error; the error is returned too.
func (a *Analyzer) Read(r io.Reader, name string) error {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	a.files[base] = true
	in := Input{File: name, Format: map[Format]int{}}
	// Only the patterns that apply to this file's name are checked.
	var checks []check
	for _, st := range a.sigs {
		st := st
		for _, mp := range append([]Pattern{st.sig.Match}, st.sig.Alt...) {
			if !mp.fileOK(base) {
				continue
			}
			checks = append(checks, check{mp, func(l Line) {
				st.count++
				if len(st.hits) >= maxFindingsKept {
					return
				}
				if st.lastCtx != nil && st.ctxFile == name {
					st.hits = append(st.hits, *st.lastCtx)
					st.lastCtx = nil
				}
				st.hits = append(st.hits, evidence(l))
				st.shown++
				st.ctxFile, st.ctxUntil = name, l.Num+5
			}})
		}
		for _, p := range st.sig.Context {
			if p.fileOK(base) {
				checks = append(checks, check{p, func(l Line) {
					e := evidence(l)
					if st.ctxFile == name && l.Num <= st.ctxUntil && len(st.hits) < maxFindingsKept {
						st.hits = append(st.hits, e)
						st.ctxUntil = 0
						return
					}
					st.lastCtx, st.ctxFile = &e, name
				}})
			}
		}
		for i, p := range st.sig.Also {
			i := i
			if p.fileOK(base) {
				checks = append(checks, check{p, func(Line) { st.also[i] = true }})
			}
		}
		for _, p := range st.sig.Absent {
			if p.fileOK(base) {
				checks = append(checks, check{p, func(Line) { st.absent = true }})
			}
		}
		for _, p := range st.sig.Recovered {
			if p.fileOK(base) {
				checks = append(checks, check{p, func(l Line) {
					st.recovered = true
					if l.Time.After(st.recoveredAt) {
						st.recoveredAt = l.Time
					}
				}})
			}
		}
	}
	for _, m := range markers {
		m := m
		if m.p.fileOK(base) {
			ss := a.steps[m.step]
			checks = append(checks, check{m.p, func(l Line) {
				switch {
				case !m.done:
					if !ss.started || l.Time.Before(ss.startAt) {
						ss.startAt = l.Time
					}
					ss.started = true
				case m.afterStart:
					if len(ss.pendingDone) < 64 {
						ss.pendingDone = append(ss.pendingDone, l.Time)
					}
					return
				default:
					ss.started, ss.done = true, true
				}
				ss.comps[m.comp] = true
				if ss.first.IsZero() || (!l.Time.IsZero() && l.Time.Before(ss.first)) {
					ss.first = l.Time
				}
				if len(ss.evidence) < maxEvidence {
					ss.evidence = append(ss.evidence, evidence(l))
				}
			}})
		}
	}
	groups := groupChecks(checks)
	grams := &gramSet{}
	err := ReadLog(r, name, ReadOptions{Location: a.opt.Location, Warn: a.warn}, func(l Line) error {
		in.Lines++
		in.Format[l.Format]++
		t := l.Text
		grams.load(t)
		if grams.has('_'<<8|'S') && strings.Contains(t, "CCM_STS") {
			a.sts.see(l)
		}
		for i := range groups {
			g := &groups[i]
			if g.n > 0 && !grams.has(g.ka) || g.n > 1 && !grams.has(g.kb) || !strings.Contains(t, g.text) {
				continue
			}
			for _, c := range g.checks {
				if c.p.Re == nil || c.p.Re.MatchString(t) {
					c.fire(l)
				}
			}
		}
		for _, nr := range nameRules {
			if a.names[nr.key] == "" && strings.Contains(t, nr.text) {
				if m := nr.re.FindStringSubmatch(t); m != nil {
					a.names[nr.key] = m[1]
				}
			}
		}
		return nil
	})
	if err != nil {
		in.Error = err.Error()
	}
	a.inputs = append(a.inputs, in)
	return err
}

func evidence(l Line) Evidence {
	return Evidence{File: l.File, Line: l.Num, Time: l.Time, Text: l.Text}
}

// Diagnose reads the logs under paths (files, directories, .zip) and
// diagnoses them. Unreadable inputs are reported in the result's inputs
// and warnings, and the rest is still read; err is set only when a PATH
// does not exist or nothing at all could be read.
func Diagnose(ctx context.Context, paths []string, opt Options) (*Result, error) {
	a := NewAnalyzer(opt)
	srcs, err := collect(paths, a.warn)
	if err != nil {
		return nil, err
	}
	read := 0
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rc, err := s.open()
		if err != nil {
			a.warn(err.Error() + "; skipped")
			a.inputs = append(a.inputs, Input{File: s.name, Error: err.Error()})
			continue
		}
		err = a.Read(rc, s.name)
		rc.Close()
		switch {
		case errors.Is(err, ErrUnknownEncoding):
			a.warn(err.Error() + "; skipped")
		case err != nil:
			a.warn(err.Error() + "; the lines before it were read")
		}
		read++
	}
	if read == 0 {
		return nil, fmt.Errorf("diagnose: no readable log under %s (looked for *.log, *.lo_, *.txt and .zip)", strings.Join(paths, ", "))
	}
	return a.Result(), nil
}

// checkGroup is the checks that share one substring: it is searched once
// per line.
type checkGroup struct {
	text   string
	ka, kb uint16 // key byte pairs (prefilter.go)
	n      int    // how many of ka, kb are set
	checks []check
}

func groupChecks(checks []check) []checkGroup {
	idx := map[string]int{}
	var out []checkGroup
	for _, c := range checks {
		i, ok := idx[c.p.Text]
		if !ok {
			i = len(out)
			idx[c.p.Text] = i
			g := checkGroup{text: c.p.Text}
			g.ka, g.kb, g.n = keyGrams(c.p.Text)
			out = append(out, g)
		}
		out[i].checks = append(out[i].checks, c)
	}
	return out
}
