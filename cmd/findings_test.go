package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/lint"
)

var sampleFindings = []subjectFindings{
	{Subject: "certs/mp.crt", Results: []lint.Result{
		{Rule: "e_eku_missing", Status: lint.Error, Details: "EKUs are [clientAuth]; serverAuth is required", Fix: "ask your CA for ...", WinError: lint.WrongUsage},
		{Rule: "w_cn_not_in_san", Status: lint.Warn, Details: "CN not in SAN", Fix: "ask your CA"},
		{Rule: "e_key_type_not_allowed", Status: lint.Pass},
		{Rule: "e_wpj_extensions", Status: lint.NA},
	}},
	{Subject: "certs/client.crt", Results: []lint.Result{
		{Rule: "n_cmg_wildcard_needs_prefix", Status: lint.Notice, Details: "wildcard"},
	}},
}

func TestFailOn(t *testing.T) {
	only := func(st lint.Status) []subjectFindings {
		return []subjectFindings{{Subject: "x", Results: []lint.Result{{Rule: "r", Status: st}, {Rule: "p", Status: lint.Pass}}}}
	}
	for _, tc := range []struct {
		flag  string
		items []subjectFindings
		want  ExitCode
	}{
		{"error", sampleFindings, ExitFindings},
		{"error", only(lint.Warn), ExitOK},
		{"warn", only(lint.Warn), ExitFindings},
		{"WARN", only(lint.Notice), ExitOK},
		{"notice", only(lint.Notice), ExitFindings},
		{"notice", only(lint.NA), ExitOK},
		{"notice", only(lint.NE), ExitOK},
		{"error", only(lint.Fatal), ExitFailure},
		{"error", nil, ExitOK},
	} {
		lvl, err := parseFailOn(tc.flag)
		if err != nil {
			t.Fatalf("parseFailOn(%q): %v", tc.flag, err)
		}
		err = failOn(tc.items, lvl)
		if got := exitCodeFor(err); got != tc.want {
			t.Errorf("--fail-on %s over %v: exit %d (%v), want %d", tc.flag, tc.items, got, err, tc.want)
		}
	}
	err := failOn(sampleFindings, lint.Warn)
	var fe *FindingsError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "2 finding(s) at or above warn") || !strings.Contains(fe.Msg, "certs/mp.crt: e_eku_missing") {
		t.Errorf("failOn message = %v", err)
	}
	_, err = parseFailOn("fatal")
	if exitCodeFor(err) != ExitUsage || !strings.Contains(err.Error(), "--fail-on") || !strings.Contains(err.Error(), `"fatal"`) {
		t.Errorf("bad --fail-on: %v (exit %d), want a usage error naming the flag and value", err, exitCodeFor(err))
	}
}

func TestFailOnFlagAndHelp(t *testing.T) {
	var v string
	c := &cobra.Command{Use: "check"}
	addFailOnFlag(c, &v)
	if err := c.ParseFlags(nil); err != nil || v != "error" {
		t.Errorf("default --fail-on = %q, %v; want error", v, err)
	}
	if err := c.ParseFlags([]string{"--fail-on", "warn"}); err != nil || v != "warn" {
		t.Errorf("--fail-on warn gave %q, %v", v, err)
	}
	help := exitCodesHelp(checkCodes...)
	if !strings.Contains(help, "1  findings at or above the failure threshold") {
		t.Errorf("checking commands' help lacks exit code 1:\n%s", help)
	}
	if strings.Contains(exitCodesHelp(runCodes...), "\n  1 ") {
		t.Error("commands without --fail-on list exit code 1")
	}
}

func TestRenderFindings(t *testing.T) {
	var out, errOut bytes.Buffer
	f := &Factory{IO: IOStreams{Out: &out, ErrOut: &errOut}}
	if err := renderFindings(f, "json", "cmgpki/test/v1", append(sampleFindings, subjectFindings{Subject: "empty"})); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema   string `json:"schema"`
		Subjects []struct {
			Subject  string            `json:"subject"`
			Findings []json.RawMessage `json:"findings"`
		} `json:"subjects"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if doc.Schema != "cmgpki/test/v1" || len(doc.Subjects) != 3 || len(doc.Subjects[0].Findings) != 4 || doc.Subjects[2].Findings == nil {
		t.Errorf("JSON shape: %s", out.String())
	}
	if !strings.Contains(out.String(), `"win_error": {
            "name": "CERT_E_WRONG_USAGE",
            "hresult": "0x800B0110",
            "winhttp": 12179
          }`) {
		t.Errorf("JSON lacks the typed Windows error:\n%s", out.String())
	}

	out.Reset()
	if err := renderFindings(f, "text", "", sampleFindings); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"| SUBJECT", "e_eku_missing", "CERT_E_WRONG_USAGE 0x800B0110", "w_cn_not_in_san", "n_cmg_wildcard_needs_prefix", "| notice"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, not := range []string{"e_key_type_not_allowed", "e_wpj_extensions"} {
		if strings.Contains(table, not) {
			t.Errorf("table shows the pass/NA result %s:\n%s", not, table)
		}
	}

	out.Reset()
	errOut.Reset()
	if err := renderFindings(f, "text", "", []subjectFindings{{Subject: "x", Results: []lint.Result{{Rule: "r", Status: lint.Pass}}}}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "No findings") {
		t.Errorf("no findings: stdout %q, stderr %q", out.String(), errOut.String())
	}

	errOut.Reset()
	printFindings(f, "mp", sampleFindings[0].Results)
	lines := errOut.String()
	for _, want := range []string{"Error: mp: e_eku_missing:", "Warning: mp: w_cn_not_in_san: CN not in SAN", "      fix: ask your CA"} {
		if !strings.Contains(lines, want) {
			t.Errorf("finding lines lack %q:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, "e_key_type_not_allowed") {
		t.Errorf("finding lines show a pass:\n%s", lines)
	}
}
