package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Meta describes a rule. Every field but Roles is required.
type Meta struct {
	Name        string   `json:"name"`        // e_/w_/n_ prefix bounds the severity
	Description string   `json:"description"` // one sentence, what must hold
	Citation    Citation `json:"citation"`    // the statement enforced
	Roles       []string `json:"roles,omitempty"`
	Fix         string   `json:"fix"`                // one line: what to do about any certificate that fails
	WinError    WinError `json:"win_error,omitzero"` // the Windows error a client would log, where one applies
	// Effective bounds the ConfigMgr versions the requirement holds for;
	// the zero value is always.
	Effective Effective `json:"effective,omitzero"`
}

// Effective is the range of Configuration Manager current-branch versions
// (YYMM, such as 2107) a requirement holds for: Since inclusive, Until
// exclusive, 0 meaning unbounded. Microsoft changes CMG requirements with a
// site version, not with a certificate's issuance date, so effectiveness is
// judged against Env.CMVersion rather than the certificate's notBefore.
type Effective struct {
	Since int `json:"since,omitempty"`
	Until int `json:"until,omitempty"`
}

// Always is the Effective of a requirement that holds for every version.
var Always = Effective{}

// Includes reports whether a site of version v (0: the latest) is bound by
// the requirement.
func (e Effective) Includes(v int) bool {
	if v == 0 {
		return e.Until == 0
	}
	return v >= e.Since && (e.Until == 0 || v < e.Until)
}

// Env is what a run is evaluated against.
type Env struct {
	// At is the evaluation time: validity rules compare against it. Zero
	// means "now", filled in by cmd; nothing below cmd reads the clock.
	At time.Time
	// CMVersion is the ConfigMgr site version (YYMM, such as 2107) the
	// certificates are judged for; 0 means the latest. A rule whose
	// Meta.Effective excludes it is NE.
	CMVersion int
}

// Result is the outcome of one rule on one subject.
type Result struct {
	Rule     string   `json:"rule"`
	Status   Status   `json:"status"`
	Details  string   `json:"details,omitempty"` // observed value and expected one
	Citation Citation `json:"citation"`
	Fix      string   `json:"fix,omitempty"`
	WinError WinError `json:"win_error,omitzero"`
}

// Outcome is what a check returns: a status and details. A zero Citation
// means the rule's own; a generic rule driven by profile data may cite the
// profile field's source instead.
type Outcome struct {
	Status   Status
	Details  string
	Citation Citation
	// Unconfirmed marks a failure against a requirement Microsoft does not
	// state (UNCONFIRMED in the profile): the registry caps it at Warn
	// whatever the rule's prefix.
	Unconfirmed bool
}

// PassOutcome is the common successful outcome.
var PassOutcome = Outcome{Status: Pass}

// Failf builds a failing outcome; the registry caps it to the rule's prefix
// level, so rules write Failf and the name decides Error or Warn.
func Failf(format string, args ...any) Outcome {
	return Outcome{Status: Error, Details: fmt.Sprintf(format, args...)}
}

// Rule is one check over subjects of type T.
type Rule[T any] struct {
	Meta    Meta
	Applies func(T) bool // nil: applies to every subject of its roles
	Check   func(T, Env) Outcome
}

// Registry holds rules over subjects of type T. Create one with NewRegistry.
type Registry[T any] struct {
	roleOf func(T) string
	rules  []Rule[T]
	names  map[string]bool
}

// NewRegistry returns an empty registry. roleOf reports a subject's role for
// Meta.Roles filtering; nil means roles are not checked.
func NewRegistry[T any](roleOf func(T) string) *Registry[T] {
	return &Registry[T]{roleOf: roleOf, names: map[string]bool{}}
}

// levelOf returns the severity a rule name allows.
func levelOf(name string) (Status, bool) {
	switch {
	case strings.HasPrefix(name, "e_"):
		return Error, true
	case strings.HasPrefix(name, "w_"):
		return Warn, true
	case strings.HasPrefix(name, "n_"):
		return Notice, true
	}
	return 0, false
}

// Register adds a rule. It panics on an empty or duplicate name, a name
// without an e_/w_/n_ prefix, missing metadata or an uncatalogued source:
// all are programming errors.
func (r *Registry[T]) Register(rule Rule[T]) {
	m := rule.Meta
	if _, ok := levelOf(m.Name); !ok {
		panic(fmt.Sprintf("lint: rule %q: name must start with e_, w_ or n_", m.Name))
	}
	if r.names[m.Name] {
		panic(fmt.Sprintf("lint: rule %q registered twice", m.Name))
	}
	if m.Description == "" || m.Fix == "" || rule.Check == nil {
		panic(fmt.Sprintf("lint: rule %q: Description, Fix and Check are required", m.Name))
	}
	if _, ok := sources[m.Citation.Source]; !ok {
		panic(fmt.Sprintf("lint: rule %q cites unknown source %q", m.Name, m.Citation.Source))
	}
	r.names[m.Name] = true
	r.rules = append(r.rules, rule)
}

// Rules returns the rules' metadata sorted by name.
func (r *Registry[T]) Rules() []Meta {
	out := make([]Meta, 0, len(r.rules))
	for _, x := range r.rules {
		out = append(out, x.Meta)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Filter selects rules. Empty fields select everything; Exclude wins over
// Include.
type Filter struct {
	Include []string // rule names
	Exclude []string // rule names
}

// Filter returns a copy holding the selected rules. Naming an unknown rule is
// an error, so a typo in --ignore does not silently ignore nothing.
func (r *Registry[T]) Filter(f Filter) (*Registry[T], error) {
	for _, n := range append(slices.Clone(f.Include), f.Exclude...) {
		if !r.names[n] {
			return nil, fmt.Errorf("lint: unknown rule %q", n)
		}
	}
	out := NewRegistry(r.roleOf)
	for _, x := range r.rules {
		if len(f.Include) > 0 && !slices.Contains(f.Include, x.Meta.Name) {
			continue
		}
		if slices.Contains(f.Exclude, x.Meta.Name) {
			continue
		}
		out.Register(x)
	}
	return out, nil
}

// Copy returns an independent copy of the registry.
func (r *Registry[T]) Copy() *Registry[T] {
	c, _ := r.Filter(Filter{})
	return c
}

// Run evaluates every rule on s. Results are sorted by rule name.
func (r *Registry[T]) Run(s T, env Env) Report {
	rep := Report{Results: make([]Result, 0, len(r.rules))}
	for _, x := range r.rules {
		rep.Results = append(rep.Results, r.runOne(x, s, env))
	}
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].Rule < rep.Results[j].Rule })
	return rep
}

func (r *Registry[T]) runOne(x Rule[T], s T, env Env) (res Result) {
	m := x.Meta
	res = Result{Rule: m.Name, Citation: m.Citation}
	if r.roleOf != nil && len(m.Roles) > 0 && !slices.Contains(m.Roles, r.roleOf(s)) {
		res.Status = NA
		return res
	}
	defer func() {
		if p := recover(); p != nil {
			res.Status = Fatal
			res.Details = fmt.Sprintf("rule %s panicked: %v", m.Name, p)
		}
	}()
	if !m.Effective.Includes(env.CMVersion) {
		res.Status = NE
		return res
	}
	if x.Applies != nil && !x.Applies(s) {
		res.Status = NA
		return res
	}
	o := x.Check(s, env)
	res.Status, res.Details = o.Status, o.Details
	if o.Citation.Source != "" {
		res.Citation = o.Citation
	}
	if lvl, _ := levelOf(m.Name); res.Status > Pass && res.Status < Fatal && res.Status != lvl {
		res.Status = lvl
	}
	if o.Unconfirmed && res.Status > Warn && res.Status < Fatal {
		res.Status = Warn
		res.Details += " (the requirement is UNCONFIRMED, so this is a warning)"
	}
	if res.Status > Pass {
		res.Fix, res.WinError = m.Fix, m.WinError
	}
	return res
}

// Report is the result of running a registry on one subject.
type Report struct {
	Results []Result `json:"results"`
}

// Max returns the most severe status in the report (NA for an empty one).
func (rep Report) Max() Status {
	m := NA
	for _, r := range rep.Results {
		m = max(m, r.Status)
	}
	return m
}

// AtLeast returns the results at or above level.
func (rep Report) AtLeast(level Status) []Result {
	var out []Result
	for _, r := range rep.Results {
		if r.Status >= level {
			out = append(out, r)
		}
	}
	return out
}
