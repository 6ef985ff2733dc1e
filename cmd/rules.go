package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
	"github.com/cmgpki/cmgpki/verify"
)

// ruleSchema is the schema of one line of "rules list --output json".
const ruleSchema = "cmgpki/rule/v1"

type rulesListOptions struct {
	output string
}

func newRulesCmd(f *Factory, runF func(*rulesListOptions) error) *cobra.Command {
	c := groupCmd("rules", "list the rules that judge certificates, inputs, chains and CMG settings")
	c.Long = `Every rule has an ID whose prefix bounds its level (e_ error, w_ warn, n_ notice), the roles it
applies to, the requirement it checks and the source that states it. A requirement Microsoft does not
state (UNCONFIRMED) is reported at most as a warning, whatever the prefix.

` + exitCodesHelp(ExitOK, ExitUsage)
	o := &rulesListOptions{}
	list := &cobra.Command{
		Use:   "list",
		Short: "list every rule with its level, roles and source",
		Long: `List every rule of every registry:
  certificate  the role requirements of "cmgpki profiles" (one certificate and its role)
  input        the file a certificate came in (PFX key, password, encryption; a key that must match)
  chain        the built chain as Windows judges it: one chain_<reason> per trust failure with the
               error a client logs, and its warnings and notices (SHA-1, AIA only, CN fallback)
  renewal      a renewed CMG certificate against the one it replaces
  cmg-trusted  the trusted CA certificates uploaded to the CMG against the client chains
  endpoint     a live TLS endpoint (verify endpoint): reachable, TLS 1.2, the chain it sends
  crl          a CRL checked on its own (verify crl): signature, freshness, number, IDP, order
  selection    the client certificate selection (verify client-selection)

The IDs without a prefix (chain_*, crl_*, ...) are reported by verify itself rather than by a rule;
their level is fixed. Every finding verify reports is in this list.

With --output json, one JSON object per line (JSON Lines, like zlint -list-lints-json), each
{"schema": "` + ruleSchema + `", "name", "level", "subject", "roles", "description", "citation":
{"source", "section", "url"}, "fix", "win_error", "effective"}, sorted by subject, then name.

` + exitCodesHelp(ExitOK, ExitUsage),
		Example: `  cmgpki rules list
  cmgpki rules list --output json | jq -r 'select(.level == "error") | .name'
  cmgpki rules list --wide`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runRulesList(f, o)
		},
	}
	addOutputFlag(list, &o.output)
	c.AddCommand(list)
	return c
}

// ruleView is one line of "rules list --output json" (schema cmgpki/rule/v1).
type ruleView struct {
	Schema      string         `json:"schema"`
	Name        string         `json:"name"`
	Level       string         `json:"level"`   // error, warn or notice, from the prefix
	Subject     string         `json:"subject"` // certificate, input, chain, renewal, cmg-trusted
	Roles       []string       `json:"roles"`   // empty: every role of the subject
	Description string         `json:"description"`
	Citation    lint.Citation  `json:"citation"`
	Fix         string         `json:"fix"`
	WinError    lint.WinError  `json:"win_error,omitzero"`
	Effective   lint.Effective `json:"effective,omitzero"`
}

// allRules lists every rule and every other finding verify reports: the
// certificate rules of profiles, the registries of verify and the findings
// of verify's catalogue (verify.Catalogue: the chain verdict, the endpoint,
// a CRL, the client selection), grouped by subject in subjectOrder, each
// subject sorted by name.
func allRules() []ruleView {
	sets := append([]verify.RuleSet{{Subject: "certificate", Rules: profiles.Rules().Rules()}}, verify.RuleSets()...)
	var out []ruleView
	for _, s := range sets {
		for _, m := range s.Rules {
			roles := m.Roles
			if roles == nil {
				roles = []string{}
			}
			out = append(out, ruleView{Schema: ruleSchema, Name: m.Name, Level: levelOfName(m.Name), Subject: s.Subject,
				Roles: roles, Description: m.Description, Citation: m.Citation, Fix: m.Fix, WinError: m.WinError, Effective: m.Effective})
		}
	}
	for _, e := range verify.Catalogue() {
		out = append(out, ruleView{Schema: ruleSchema, Name: e.ID, Level: e.Level.String(), Subject: e.Subject, Roles: []string{},
			Description: e.Description, Citation: e.Citation(), Fix: e.Fix, WinError: verify.LintWinError(e.Windows)})
	}
	rank := func(s string) int {
		for i, x := range subjectOrder {
			if x == s {
				return i
			}
		}
		return len(subjectOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i].Subject), rank(out[j].Subject); ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// subjectOrder is the order of the subjects in "rules list" and docs/rules.md.
var subjectOrder = []string{"certificate", "input", "chain", "renewal", "cmg-trusted", "endpoint", "crl", "selection"}

// levelOfName is the level a rule name's prefix allows.
func levelOfName(n string) string {
	switch {
	case strings.HasPrefix(n, "e_"):
		return "error"
	case strings.HasPrefix(n, "w_"):
		return "warn"
	}
	return "notice"
}

func rolesText(r ruleView) string {
	if len(r.Roles) == 0 {
		if r.Subject == "certificate" {
			return "all"
		}
		return "-"
	}
	return strings.Join(r.Roles, ", ")
}

var ruleListColumns = []column{
	{Header: "RULE", Priority: 1},
	{Header: "LEVEL", Priority: 1},
	{Header: "SUBJECT", Priority: 4},
	{Header: "ROLES", Priority: 5, Min: 12, Shrink: cutEnd},
	{Header: "SOURCE", Priority: 3, Min: 10, Shrink: cutEnd},
	{Header: "DESCRIPTION", Priority: 2, Min: 24, Shrink: cutEnd},
}

func runRulesList(f *Factory, o *rulesListOptions) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	rules := allRules()
	if strings.ToLower(o.output) == "json" {
		return writeRulesJSONLines(f.IO.Out, rules)
	}
	rows := make([][]string, 0, len(rules))
	for _, r := range rules {
		rows = append(rows, []string{r.Name, r.Level, r.Subject, rolesText(r), r.Citation.String(), r.Description})
	}
	return renderTable(f, ruleListColumns, rows)
}

func writeRulesJSONLines(w io.Writer, rules []ruleView) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rules {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// rulesMarkdown renders docs/rules.md: every rule with its level, roles,
// requirement, source, fix and Windows error. TestRulesDoc keeps the file
// current ("go test ./cmd -run TestRulesDoc -update" rewrites it).
func rulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# cmgpki rules\n\n")
	b.WriteString("Generated from the rule registries by `go test ./cmd -run TestRulesDoc -update`; do not edit by hand.\n")
	b.WriteString("`cmgpki rules list` prints the same list. The prefix of a rule ID bounds its level (`e_` error, `w_` warn,\n")
	b.WriteString("`n_` notice); a failure against a requirement Microsoft does not state (UNCONFIRMED) is at most a warning.\n")
	b.WriteString("The IDs without a prefix (`chain_*`, `crl_*`, `endpoint_*`, ...) are findings `cmgpki verify` reports by itself\n")
	b.WriteString("(the chain verdict, a TLS endpoint, a CRL, the client selection); their level is fixed. Every finding verify\n")
	b.WriteString("reports is listed here.\n")
	subject := ""
	for _, r := range allRules() {
		if r.Subject != subject {
			subject = r.Subject
			fmt.Fprintf(&b, "\n## Subject: %s\n\n", subject)
			b.WriteString("| Rule | Level | Roles | Requirement | Source | Fix | Windows error |\n|---|---|---|---|---|---|---|\n")
		}
		src := r.Citation.String()
		if r.Citation.URL != "" {
			src = fmt.Sprintf("[%s](%s) %s", r.Citation.Source, r.Citation.URL, r.Citation.Section)
		}
		desc := r.Description
		if r.Effective != (lint.Effective{}) {
			desc += fmt.Sprintf(" (in effect for versions %s)", effectiveText(r.Effective))
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.Name, r.Level, mdCell(rolesText(r)), mdCell(desc), mdCell(src), mdCell(r.Fix), mdCell(r.WinError.String()))
	}
	return b.String()
}

func effectiveText(e lint.Effective) string {
	switch {
	case e.Since != 0 && e.Until != 0:
		return fmt.Sprintf("%d to before %d", e.Since, e.Until)
	case e.Since != 0:
		return fmt.Sprintf("%d and later", e.Since)
	}
	return fmt.Sprintf("before %d", e.Until)
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
