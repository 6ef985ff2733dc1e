package lint

import (
	"strings"
	"testing"
)

type subj struct{ role string }

func newTestRegistry() *Registry[subj] {
	return NewRegistry(func(s subj) string { return s.role })
}

func rule(name string, roles []string, out Outcome) Rule[subj] {
	return Rule[subj]{
		Meta:  Meta{Name: name, Description: "d", Fix: "f", Citation: Cite(SrcPKIReq, "x"), Roles: roles},
		Check: func(subj, Env) Outcome { return out },
	}
}

func TestRunStatuses(t *testing.T) {
	r := newTestRegistry()
	r.Register(rule("e_fails", nil, Failf("got %d", 1)))
	r.Register(rule("w_fails", nil, Failf("warned")))         // Failf says Error; the w_ prefix caps it
	r.Register(rule("n_notice", nil, Outcome{Status: Error})) // capped to Notice
	r.Register(rule("e_other_role", []string{"mp"}, Failf("never")))
	r.Register(rule("e_pass", nil, PassOutcome))
	r.Register(Rule[subj]{Meta: Meta{Name: "e_panics", Description: "d", Fix: "f", Citation: Cite(SrcSAC, "y")},
		Check: func(subj, Env) Outcome { panic("boom") }})
	r.Register(Rule[subj]{Meta: Meta{Name: "e_not_applicable", Description: "d", Fix: "f", Citation: Cite(SrcSAC, "y")},
		Applies: func(subj) bool { return false }, Check: func(subj, Env) Outcome { panic("must not run") }})

	rep := r.Run(subj{role: "cmg"}, Env{})
	want := map[string]Status{"e_fails": Error, "w_fails": Warn, "n_notice": Notice, "e_other_role": NA,
		"e_pass": Pass, "e_panics": Fatal, "e_not_applicable": NA}
	for _, res := range rep.Results {
		if res.Status != want[res.Rule] {
			t.Errorf("%s: status %s, want %s", res.Rule, res.Status, want[res.Rule])
		}
		if res.Status > Pass && res.Status < Fatal && res.Fix == "" {
			t.Errorf("%s: failing result carries no fix", res.Rule)
		}
	}
	if rep.Max() != Fatal {
		t.Errorf("Max = %s, want fatal", rep.Max())
	}
	if got := len(rep.AtLeast(Error)); got != 2 {
		t.Errorf("AtLeast(Error) = %d results, want 2 (e_fails, e_panics)", got)
	}
	if rep.Results[0].Rule > rep.Results[len(rep.Results)-1].Rule {
		t.Error("results are not sorted by rule name")
	}
}

func TestRegisterPanics(t *testing.T) {
	for name, r := range map[string]Rule[subj]{
		"no prefix":      rule("bad_name", nil, PassOutcome),
		"unknown source": {Meta: Meta{Name: "e_x", Description: "d", Fix: "f", Citation: Citation{Source: "NOPE"}}, Check: func(subj, Env) Outcome { return PassOutcome }},
		"no fix":         {Meta: Meta{Name: "e_x", Description: "d", Citation: Cite(SrcSAC, "y")}, Check: func(subj, Env) Outcome { return PassOutcome }},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			newTestRegistry().Register(r)
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		reg := newTestRegistry()
		reg.Register(rule("e_a", nil, PassOutcome))
		defer func() {
			if recover() == nil {
				t.Error("duplicate Register did not panic")
			}
		}()
		reg.Register(rule("e_a", nil, PassOutcome))
	})
}

func TestFilter(t *testing.T) {
	r := newTestRegistry()
	r.Register(rule("e_a", nil, Failf("a")))
	r.Register(rule("e_b", nil, Failf("b")))
	f, err := r.Filter(Filter{Exclude: []string{"e_a"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep := f.Run(subj{}, Env{}); len(rep.Results) != 1 || rep.Results[0].Rule != "e_b" {
		t.Errorf("filtered run = %+v, want only e_b", rep.Results)
	}
	if len(r.Rules()) != 2 {
		t.Error("Filter changed the original registry")
	}
	if _, err := r.Filter(Filter{Exclude: []string{"e_typo"}}); err == nil || !strings.Contains(err.Error(), "e_typo") {
		t.Errorf("Filter with unknown rule: err = %v, want one naming e_typo", err)
	}
}

func TestStatusJSON(t *testing.T) {
	for s := NA; s <= Fatal; s++ {
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalJSON(b); err != nil || back != s {
			t.Errorf("round trip of %s gave %s, %v", s, back, err)
		}
	}
}

func TestCiteUnknownPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Cite of an unknown source did not panic")
		}
	}()
	Cite("NOPE", "x")
}
