package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/diagnose"
	"github.com/cmgpki/cmgpki/flow"
)

type diagnoseOptions struct {
	paths  []string
	output string
	report string
	tz     string
}

const diagnoseJSONHelp = `JSON (--output json, schema cmgpki/diagnose/v1): the flow run shared with
"handshake" (schema, result, failing_step, windows_error, notes, steps[] with
step, component, time, result pass|fail|skip, detail, evidence[],
windows_error, http, fix, proof) plus findings[] (id, title, step, level
fail|warn, time, evidence[] {file, line, time, text}, codes[] {code, kind,
name, meaning}, windows_error, http, cause, fix, proof, citation), missing[],
names {cmg, mp, tenant}, inputs[] {file, lines, formats, error} and warnings[].`

func newDiagnoseCmd(f *Factory, runF func(*diagnoseOptions) error) *cobra.Command {
	o := &diagnoseOptions{}
	c := &cobra.Command{
		Use:   "diagnose PATH... [--output text|json] [--report FILE.html] [--tz ZONE]",
		Short: "read ConfigMgr client, site and CMG logs; rebuild the CMG flow and name the failure, its proof and its fix",
		Long: `Read ConfigMgr logs and rebuild the documented client flow through a Cloud
Management Gateway: TLS to the CMG, AAD information, the Entra token (device,
then user), the CCM token through CMG, connection point and MP, location,
registration, token renewal and the security settings refresh. Each step is
shown as passed, failed or never started, with its evidence lines (file and
line number). A failure is named by its signature (cmg-failures.md F01..F37
and the documents' common issues): the evidence, the decoded codes (HRESULT,
WinHTTP error, secure-failure flags such as 0x9 = revocation failed +
invalid CA), the cause, the fix, the cmgpki command that proves it (filled in
with the CMG and MP names found in the logs) and the source. When the logs
are not enough to decide, "Missing:" says what to collect.

Logs are read line by line with bounded memory: CMTrace format, the
site-server format ($$<Component><date time><thread=...>) and plain text;
UTF-8, UTF-8 with a BOM or UTF-16LE with a BOM. CMTrace times carry the
Windows UTC bias (UTC = local time + bias). A file that cannot be read is
reported with a Warning: line and the rest is still read.

Arguments:
  PATH  a log file, a directory (a client's C:\Windows\CCM\Logs and
        C:\Windows\ccmsetup\Logs, a site server's Logs, synced CMG logs) or a
        .zip of them; in directories and zips *.log, *.lo_ and *.txt are read,
        a rolled-over X.lo_ just before X.log

` + diagnoseJSONHelp + `

Exit codes:
  0  success: no failure identified (warnings may be printed)
  1  a failure was identified (its cause is printed)
  2  usage or input error: bad flag, a PATH that does not exist, no readable log
  3  operational error (writing the report)`,
		Example: `  # on the logs of a client and a site server (a directory, files or a .zip):
  #   cmgpki diagnose C:\Windows\CCM\Logs C:\Windows\ccmsetup\Logs site-logs.zip
  # here on the logs the simulator writes for each scenario:
  cmgpki handshake --lab cmg-lab --scenario all --logs cmg-logs
  cmgpki diagnose cmg-logs/happy-device-token
  cmgpki diagnose cmg-logs/user-token-fallback --output json
  cmgpki diagnose cmg-logs/pki-client-preferred --report cmg-flow.html --tz Europe/Paris`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &UsageError{Err: fmt.Errorf("%s: want at least one PATH (a log file, directory or .zip)", c.CommandPath()), ShowUsage: true}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			o.paths = args
			if runF != nil {
				return runF(o)
			}
			return runDiagnose(c, f, o)
		},
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
	}
	addOutputFlag(c, &o.output)
	c.Flags().StringVar(&o.report, "report", "", "also write a self-contained HTML report of the flow to FILE.html")
	c.Flags().StringVar(&o.tz, "tz", "UTC", "time zone of plain-text log timestamps (IANA name such as Europe/Paris, or Local); CMTrace and site-server lines carry their own UTC bias")
	return c
}

func runDiagnose(c *cobra.Command, f *Factory, o *diagnoseOptions) error {
	switch o.output {
	case "text", "table", "json":
	default:
		return &UsageError{Err: fmt.Errorf("--output: %q is not text, table or json", o.output), ShowUsage: true}
	}
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return usageErr(fmt.Errorf("--tz: %q is not a time zone (use an IANA name such as Europe/Paris, UTC or Local): %w", o.tz, err))
	}
	if o.report != "" && !strings.EqualFold(filepath.Ext(o.report), ".html") && !strings.EqualFold(filepath.Ext(o.report), ".htm") {
		return usageErr(fmt.Errorf("--report: %q must end in .html", o.report))
	}
	for _, p := range o.paths {
		if _, err := os.Stat(p); err != nil {
			return usageErr(fmt.Errorf("PATH %s: %w", p, err))
		}
	}
	res, err := diagnose.Diagnose(c.Context(), o.paths, diagnose.Options{Location: loc})
	if err != nil {
		return usageErr(err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s\n", w)
	}
	if o.output == "json" {
		err = renderJSON(f.IO.Out, res)
	} else {
		err = renderDiagnosis(f, res)
	}
	if err != nil {
		return err
	}
	if o.report != "" {
		if err := writeFlowReport(o.report, "cmgpki diagnose: "+strings.Join(o.paths, " "), &res.Flow, reportFindings(res), res.Missing, f.Clock.Now()); err != nil {
			return err
		}
		f.notef("wrote the HTML report %s", o.report)
	}
	if res.Failed() {
		return &FindingsError{Msg: fmt.Sprintf("diagnose: %s (%s)", res.Findings[0].Title, res.Findings[0].ID)}
	}
	return nil
}

// renderDiagnosis writes the flow as a table, then the named cause(s).
func renderDiagnosis(f *Factory, res *diagnose.Result) error {
	w := f.IO.Out
	if res.Result == flow.Fail && res.FailingStep != "" {
		fmt.Fprintf(w, "Flow: FAILED at %s\n", res.FailingStep)
	} else if res.Result == flow.Fail {
		fmt.Fprintf(w, "Flow: a failure outside the client flow\n")
	} else {
		fmt.Fprintf(w, "Flow: no failure identified\n")
	}
	cols := []column{{Header: "STEP", Priority: 1}, {Header: "RESULT", Priority: 1}, {Header: "COMPONENT", Priority: 2},
		{Header: "TIME (UTC)", Priority: 3}, {Header: "DETAIL", Priority: 1, Min: 30, Shrink: wrapWords}}
	var rows [][]string
	for _, s := range res.Steps {
		t := ""
		if !s.Time.IsZero() {
			t = s.Time.UTC().Format(time.RFC3339)
		}
		rows = append(rows, []string{s.ID, strings.ToUpper(string(s.Status)), s.Component, t, s.Detail})
	}
	if err := renderTable(f, cols, rows); err != nil {
		return err
	}
	for i, fd := range res.Findings {
		head := "Cause"
		if i > 0 {
			head = "Also"
		}
		if fd.Level == "warn" {
			head = "Warning"
		}
		fmt.Fprintf(w, "\n%s %s: %s\n", head, fd.ID, fd.Title)
		if fd.NotCert {
			fmt.Fprintln(w, "  (not a certificate fault)")
		}
		for _, e := range fd.Evidence {
			fmt.Fprintf(w, "  evidence: %s\n", e.String())
		}
		for _, cd := range fd.Codes {
			fmt.Fprintf(w, "  code:     %s %s: %s\n", cd.Code, cd.Name, cd.Meaning)
		}
		if !fd.Windows.IsZero() {
			fmt.Fprintf(w, "  windows:  %s\n", fd.Windows)
		}
		if fd.HTTP != "" {
			fmt.Fprintf(w, "  http:     %s\n", fd.HTTP)
		}
		fmt.Fprintf(w, "  cause:    %s\n  fix:      %s\n", fd.Cause, fd.Fix)
		if fd.Proof != "" {
			fmt.Fprintf(w, "  proof:    %s\n", fd.Proof)
		}
		fmt.Fprintf(w, "  source:   %s\n", fd.Citation)
	}
	for _, m := range res.Missing {
		fmt.Fprintf(w, "\nMissing: %s\n", m)
	}
	n := 0
	for _, in := range res.Inputs {
		n += in.Lines
	}
	fmt.Fprintf(w, "\nRead %s, %s.\n", plural(len(res.Inputs), "log", "logs"), plural(n, "line", "lines"))
	return nil
}

// reportFinding is what the HTML report shows of a finding.
type reportFinding struct {
	ID, Title, Level, Step, Cause, Fix, Proof, Citation string
	Evidence, Codes                                     []string
}

func reportFindings(res *diagnose.Result) []reportFinding {
	var out []reportFinding
	for _, fd := range res.Findings {
		rf := reportFinding{ID: fd.ID, Title: fd.Title, Level: fd.Level, Step: fd.Step, Cause: fd.Cause, Fix: fd.Fix, Proof: fd.Proof, Citation: fd.Citation}
		for _, e := range fd.Evidence {
			rf.Evidence = append(rf.Evidence, e.String())
		}
		for _, cd := range fd.Codes {
			rf.Codes = append(rf.Codes, cd.Code+" "+cd.Name+": "+cd.Meaning)
		}
		out = append(out, rf)
	}
	return out
}
