package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/profiles"
	"github.com/cmgpki/cmgpki/verify"
)

// TestNewRulesCmd parses argv into options through the runF seam.
func TestNewRulesCmd(t *testing.T) {
	f := &Factory{IO: IOStreams{Out: new(strings.Builder), ErrOut: new(strings.Builder)}}
	var got *rulesListOptions
	c := newRulesCmd(f, func(o *rulesListOptions) error { got = o; return nil })
	c.SetArgs([]string{"list", "--output", "json"})
	if err := c.Execute(); err != nil || got == nil || got.output != "json" {
		t.Fatalf("err %v, options %+v", err, got)
	}
}

// TestRulesList: the table and the JSON lines list every rule of every
// registry; a bad --output and an argument are usage errors.
func TestRulesList(t *testing.T) {
	total := len(profiles.Rules().Rules()) + len(verify.Rules()) + len(verify.Catalogue())
	r := runCmd(t, nil, "rules", "list")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	for _, want := range []string{"RULE", "LEVEL", "SOURCE", "w_expiring_soon", "e_pfx_wrong_password", "cmg-trusted", "[MOD]", "e_renewal_cn_changed", "chain_untrusted_root", "crl_expired", "selection_none", "missing_intermediate"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	r = runCmd(t, nil, "rules", "list", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(r.out))
	n := 0
	names := map[string]bool{}
	for sc.Scan() {
		var v ruleView
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		if v.Schema != ruleSchema || v.Name == "" || v.Citation.Source == "" || v.Level == "" || v.Subject == "" || v.Roles == nil {
			t.Errorf("line %d incomplete: %+v", n+1, v)
		}
		if names[v.Name] {
			t.Errorf("rule %s listed twice: names must be unique across registries", v.Name)
		}
		names[v.Name] = true
		n++
	}
	if n != total {
		t.Errorf("%d JSON lines, want %d rules", n, total)
	}
	for _, args := range [][]string{{"rules", "list", "--output", "yaml"}, {"rules", "list", "extra"}} {
		if r := runCmd(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, ExitUsage)
		}
	}
	if r := runCmd(t, nil, "rules", "list", "--help"); !strings.Contains(r.out, "Exit codes:") || !strings.Contains(r.out, "Examples:") {
		t.Errorf("help lacks exit codes or examples:\n%s", r.out)
	}
}

// TestRulesDoc fails when docs/rules.md is not what the registries
// generate; "go test ./cmd -run TestRulesDoc -update" rewrites it.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "rules.md")
	got := rulesMarkdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -run TestRulesDoc -update)", err)
	}
	if got != string(want) {
		t.Errorf("docs/rules.md is not current; run go test ./cmd -run TestRulesDoc -update and review the diff")
	}
	for _, m := range append(profiles.Rules().Rules(), verify.Rules()...) {
		if !strings.Contains(got, "`"+m.Name+"`") {
			t.Errorf("docs/rules.md lacks %s", m.Name)
		}
	}
}
