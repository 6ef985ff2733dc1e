package diagnose

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/lint"
)

// Pattern matches one log line: its file's base name must contain File
// (case-insensitive; "" is any file) and its text must contain Text
// (case-sensitive, the exact documented wording). Re, when set, must match
// as well; it runs only on lines that hold Text, so keep Text specific.
type Pattern struct {
	File string
	Text string
	Re   *regexp.Regexp
}

func (p Pattern) fileOK(lowerBase string) bool {
	return p.File == "" || strings.Contains(lowerBase, strings.ToLower(p.File))
}

func (p Pattern) lineOK(text string) bool {
	return strings.Contains(text, p.Text) && (p.Re == nil || p.Re.MatchString(text))
}

// Signature is one known failure, as data: how to recognise it in the logs
// and what to tell the admin. A maintainer adds one by adding an entry to
// signatures.go; the reader and the matcher need no change.
type Signature struct {
	// ID is the failure's ID in cmg-failures.md (F01..F37), or S.. for the
	// seeds' common issues that are not in the catalogue.
	ID    string
	Title string
	// Step is the flow step the failure stops (flow.Step*); "" for a
	// failure outside the client flow (console, CMG deployment).
	Step      string
	Component string
	// Match is the line that fires the signature; it becomes evidence.
	Match Pattern
	// Alt are other wordings of the same line (the WinHTTP error number
	// instead of the flag line, say); any of them fires it too.
	Alt []Pattern
	// Context lines of the same file are added to the evidence: the last
	// one before a hit and the first within 5 lines after it (the
	// secure-failure status value, the failing URL).
	Context []Pattern
	// Also must each appear somewhere in the input (in any order).
	Also []Pattern
	// Absent must not appear anywhere in the input.
	Absent []Pattern
	// Recovered, when seen at or after the first hit, makes the finding a
	// warning: the client got past it (a device token failed, a user token
	// was then retrieved).
	Recovered []Pattern
	// StepFromURI lets the request URI in the evidence decide the step
	// (a connection point refusal on /CCM_STS fails the CCM token step,
	// on /SMS_MP/.sms_aut the location step).
	StepFromURI bool
	// Supersedes lists signatures this one explains better; when both
	// fire, those are dropped.
	Supersedes []string
	Windows    lint.WinError
	HTTP       string
	Cause      string
	Fix        string
	// Proof is the command that proves the cause, with {cmg}, {mp}, {url}
	// and {tenant} filled in from the logs (placeholders left in capitals
	// when the logs do not name them).
	Proof string
	// NotCert marks a look-alike that is not a certificate fault.
	NotCert bool
	// Citation names the catalogue entry and its sources.
	Citation string
}

// Registry holds signatures; Register panics on a bug in the data (empty or
// duplicate ID, no match text, no cause, fix or citation).
type Registry struct {
	sigs []Signature
	ids  map[string]bool
}

// Register adds s.
func (r *Registry) Register(s Signature) {
	switch {
	case s.ID == "" || s.Title == "":
		panic("diagnose: signature without ID or title")
	case r.ids[s.ID]:
		panic("diagnose: duplicate signature " + s.ID)
	case s.Match.Text == "":
		panic("diagnose: signature " + s.ID + " has no match text")
	case s.Cause == "" || s.Fix == "" || s.Citation == "":
		panic("diagnose: signature " + s.ID + " lacks cause, fix or citation")
	}
	if s.Step != "" && !validStep(s.Step) {
		panic(fmt.Sprintf("diagnose: signature %s: unknown step %q", s.ID, s.Step))
	}
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	r.ids[s.ID] = true
	r.sigs = append(r.sigs, s)
}

// All returns a copy of the signatures, sorted by ID.
func (r *Registry) All() []Signature {
	out := append([]Signature(nil), r.sigs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func validStep(s string) bool {
	for _, id := range flow.StepOrder {
		if id == s {
			return true
		}
	}
	return false
}

var signatures Registry

// Signatures returns a copy of the built-in signatures.
func Signatures() []Signature { return signatures.All() }

// fill replaces {cmg}, {mp}, {url} and {tenant} in a proof template.
func fill(tpl string, v map[string]string) string {
	if tpl == "" {
		return ""
	}
	r := []string{}
	for _, k := range []string{"cmg", "mp", "url", "tenant"} {
		val := v[k]
		if val == "" {
			val = strings.ToUpper(k)
		}
		r = append(r, "{"+k+"}", val)
	}
	return strings.NewReplacer(r...).Replace(tpl)
}
