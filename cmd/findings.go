package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/lint"
)

// Findings are rendered in one place, whatever produced them: issuance
// (lab create, ca init, issue) prints its notices and warnings as stderr
// lines; the checking commands render a table or JSON on stdout and decide
// their exit code with --fail-on.

// subjectFindings are the lint results of one subject: a certificate, a
// CRL, an endpoint.
type subjectFindings struct {
	Subject string        `json:"subject"`
	Results []lint.Result `json:"findings"`
}

// printFindings writes the lint notices and warnings of one certificate to
// stderr: "Warning: NAME: RULE: DETAILS ([SOURCE] section)", "Note: ...".
// Errors never get here at issuance: a certificate its profile rejects is
// not signed.
func printFindings(f *Factory, name string, rs []lint.Result) {
	writeFindingLines(f.IO.ErrOut, name, rs)
}

// writeFindingLines writes results at notice level and above as prefixed
// lines, each followed by its fix and, when one applies, the Windows error.
func writeFindingLines(w io.Writer, name string, rs []lint.Result) {
	for _, r := range rs {
		if r.Status < lint.Notice {
			continue
		}
		prefix := "Note"
		switch {
		case r.Status >= lint.Error:
			prefix = "Error"
		case r.Status >= lint.Warn:
			prefix = "Warning"
		}
		fmt.Fprintf(w, "%s: %s: %s: %s (%s)\n", prefix, name, r.Rule, r.Details, r.Citation)
		if r.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", r.Fix)
		}
	}
}

// On a narrow terminal SUBJECT goes first (verify prints it above each
// table), then FIX, then the Windows error, which wraps rather than being
// cut: the error a client logs is what an admin searches for.
var findingColumns = []column{
	{Header: "SUBJECT", Priority: 5, Min: 10, Shrink: cutEnd},
	{Header: "LEVEL", Priority: 1},
	{Header: "RULE", Priority: 1},
	{Header: "DETAILS", Priority: 1, Min: 24, Shrink: wrapWords},
	{Header: "WINDOWS ERROR", Priority: 2, Min: 20, Shrink: wrapWords},
	{Header: "FIX", Priority: 3, Min: 20, Shrink: wrapWords},
}

// findingRows lists the results at notice level and above (NA, NE and pass
// are left out) as table rows.
func findingRows(items []subjectFindings) [][]string {
	var rows [][]string
	for _, it := range items {
		for _, r := range it.Results {
			if r.Status < lint.Notice {
				continue
			}
			win := ""
			if !r.WinError.IsZero() {
				win = fmt.Sprintf("%s 0x%08X", r.WinError.Name, r.WinError.HRESULT)
			}
			rows = append(rows, []string{it.Subject, r.Status.String(), r.Rule, r.Details, win, r.Fix})
		}
	}
	return rows
}

// findingsDoc is the JSON of a checking command's findings: every result,
// NA and pass included, under a schema.
type findingsDoc struct {
	Schema   string            `json:"schema"`
	Subjects []subjectFindings `json:"subjects"`
}

// renderFindings writes the findings as a table (text) or JSON (schema) on
// stdout. A text run without any finding says so on stderr.
func renderFindings(f *Factory, output, schema string, items []subjectFindings) error {
	if output == "json" {
		doc := findingsDoc{Schema: schema, Subjects: make([]subjectFindings, len(items))}
		for i, it := range items {
			doc.Subjects[i] = it
			if doc.Subjects[i].Results == nil {
				doc.Subjects[i].Results = []lint.Result{}
			}
		}
		return renderJSON(f.IO.Out, doc)
	}
	rows := findingRows(items)
	if len(rows) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "No findings for %d subject(s).\n", len(items))
		return nil
	}
	return renderTable(f, findingColumns, rows)
}

// The --fail-on thresholds, least severe first.
var failOnLevels = []string{"notice", "warn", "error"}

// addFailOnFlag adds --fail-on (default error) to a checking command, whose
// help must then list ExitFindings (see checkCodes).
func addFailOnFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "fail-on", "error", "exit 1 when a finding is at or above this level: "+strings.Join(failOnLevels, ", "))
}

// The exit codes of a checking command with --fail-on.
var checkCodes = []ExitCode{ExitOK, ExitFindings, ExitUsage, ExitFailure}

// parseFailOn parses a --fail-on value.
func parseFailOn(v string) (lint.Status, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "notice":
		return lint.Notice, nil
	case "warn", "warning":
		return lint.Warn, nil
	case "error":
		return lint.Error, nil
	}
	return 0, usageErr(fmt.Errorf("--fail-on: unknown level %q (want one of %s)", v, strings.Join(failOnLevels, ", ")))
}

// failOn returns a *FindingsError (exit 1) when a result is at or above
// threshold. A rule that could not run (Fatal) is an operational error
// (exit 3) whatever the threshold: the check itself is incomplete.
func failOn(items []subjectFindings, threshold lint.Status) error {
	var fatal []string
	n, first := 0, ""
	for _, it := range items {
		for _, r := range it.Results {
			switch {
			case r.Status == lint.Fatal:
				fatal = append(fatal, it.Subject+": "+r.Rule+": "+r.Details)
			case r.Status >= threshold && r.Status > lint.Pass:
				if n == 0 {
					first = it.Subject + ": " + r.Rule
				}
				n++
			}
		}
	}
	if len(fatal) > 0 {
		return fmt.Errorf("check incomplete: %s", strings.Join(fatal, "; "))
	}
	if n > 0 {
		return &FindingsError{Msg: fmt.Sprintf("%d finding(s) at or above %s (first: %s)", n, threshold, first)}
	}
	return nil
}

// withTemplateFile makes the error of a broken --template name its file.
func withTemplateFile(err error, file string) error {
	var se *ca.SpecError
	if file != "" && errors.As(err, &se) && se.Flag == "--template" {
		se.Flag = "--template " + file
	}
	return err
}
