package cmd

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/verify"
)

// The verify tables and how they give way on a narrow terminal.
var (
	// The chain of one input, leaf first: at 80 columns #, SUBJECT, STATUS
	// and REVOCATION remain.
	verifyChainColumns = []column{
		{Header: "#", Priority: 1},
		{Header: "SUBJECT", Priority: 1, Min: 16, Shrink: cutEnd},
		{Header: "EXPIRES", Priority: 3},
		{Header: "TRUST STATUS", Priority: 2, Min: 12, Shrink: wrapWords},
		{Header: "REVOCATION", Priority: 2, Min: 12, Shrink: wrapWords},
	}
	// The candidates of a client selection, in input order.
	verifySelectionColumns = []column{
		{Header: "CANDIDATE", Priority: 1, Min: 12, Shrink: cutStart},
		{Header: "SUBJECT", Priority: 3, Min: 12, Shrink: cutEnd},
		{Header: "EXPIRES", Priority: 4},
		{Header: "RESULT", Priority: 1},
		{Header: "WHY", Priority: 2, Min: 24, Shrink: wrapWords},
	}
)

// renderReport writes one report as text: a heading, the profile, the
// chain (or the CRL or the candidates) and the findings.
func renderReport(f *Factory, r *verify.Report) error {
	out := f.IO.Out
	fmt.Fprintln(out, reportHeading(r))
	if r.Endpoint != nil && r.Endpoint.TLSVersion != "" {
		fmt.Fprintf(out, "TLS: %s, %s", r.Endpoint.TLSVersion, r.Endpoint.CipherSuite)
		if r.Endpoint.ALPN != "" {
			fmt.Fprintf(out, ", ALPN %s", r.Endpoint.ALPN)
		}
		fmt.Fprintf(out, "; %d certificate(s) presented\n", len(r.Endpoint.Presented))
	}
	if p := r.Profile; p != nil {
		line := "Profile: " + p.Name + " (" + p.How
		if p.Reason != "" {
			line += ": " + p.Reason
		}
		fmt.Fprintln(out, line+")")
	}
	if c := r.CRL; c != nil {
		fmt.Fprintf(out, "CRL: issuer %s, number %s, %d entries", c.Issuer, orDash(c.Number), c.Entries)
		if c.ThisUpdate != nil && c.NextUpdate != nil {
			fmt.Fprintf(out, ", %s to %s", c.ThisUpdate.Format(time.RFC3339), c.NextUpdate.Format(time.RFC3339))
		}
		fmt.Fprintln(out)
	}
	if s := r.Selection; s != nil {
		fmt.Fprintf(out, "Criteria: %s\n", s.Criteria)
		if err := renderTable(f, verifySelectionColumns, selectionRows(s)); err != nil {
			return err
		}
	} else if r.Chain != nil {
		if err := renderTable(f, verifyChainColumns, chainRows(r.Chain)); err != nil {
			return err
		}
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(out, "No findings.")
		return nil
	}
	// One findings renderer for every checking command (findings.go).
	return renderTable(f, findingColumns, findingRows([]subjectFindings{{Subject: reportSubject(r), Results: lintResults(r.Findings)}}))
}

// lintResults is the adapter from the verify findings to the lint results
// the shared findings table renders.
func lintResults(fs []verify.Finding) []lint.Result {
	out := make([]lint.Result, len(fs))
	for i, fd := range fs {
		out[i] = lint.Result{Rule: fd.ID, Status: fd.Level, Details: fd.Message, Fix: fd.Fix, WinError: verify.LintWinError(fd.Windows)}
	}
	return out
}

// reportSubject names what a report judged, for the SUBJECT column: short,
// as the heading above the table gives the full path or URL.
func reportSubject(r *verify.Report) string {
	switch {
	case r.Endpoint != nil && r.Endpoint.Host != "":
		return r.Endpoint.Host
	case r.Input != nil && r.Input.File != "":
		return filepath.Base(r.Input.File)
	case r.Input != nil && r.Input.URL != "":
		return r.Input.URL
	}
	return r.Kind
}

func reportHeading(r *verify.Report) string {
	in := r.Input
	switch {
	case r.Kind == "client-selection":
		return "Client certificate selection"
	case in == nil:
		return r.Kind
	case in.URL != "":
		return in.URL
	}
	h := in.File + " (" + string(in.Format)
	if in.Certificates > 1 {
		h += fmt.Sprintf(", %d certificates", in.Certificates)
	}
	if in.PFX != nil {
		h += ", " + in.PFX.String()
	}
	switch {
	case in.KeyMatches != nil && *in.KeyMatches:
		h += ", key matches"
	case in.KeyMatches != nil:
		h += ", KEY DOES NOT MATCH"
	case r.Kind == "cert" && !in.HasKey:
		h += ", no key"
	}
	return h + ")"
}

func chainRows(c *verify.ChainResult) [][]string {
	var rows [][]string
	for i, e := range c.Elements {
		status := "OK"
		if e.Status != 0 {
			var names []string
			for _, n := range e.Status.Names() {
				names = append(names, strings.TrimPrefix(n, "CERT_TRUST_"))
			}
			status = strings.Join(names, " ")
		}
		if e.TrustedAs == "root" && e.Status == 0 {
			status = "OK (trusted root)"
		}
		rows = append(rows, []string{fmt.Sprint(i), e.Subject, e.NotAfter.Format("2006-01-02"), status, revocationText(e)})
	}
	return rows
}

func revocationText(e verify.Element) string {
	rv := e.Revocation
	if rv == nil {
		if e.TrustedAs == "root" {
			return "not checked (root)"
		}
		return "not checked"
	}
	s := string(rv.Status)
	switch rv.Status {
	case verify.RevUnknown:
		s = "offline"
	case verify.RevNoCheck:
		s = "cannot check (no CDP/OCSP)"
	}
	if rv.Source != "" {
		s += " (" + rv.Source
		if rv.CRLNumber != "" {
			s += " " + rv.CRLNumber
		}
		s += ")"
	}
	return s
}

func selectionRows(s *verify.SelectionResult) [][]string {
	var rows [][]string
	for _, c := range s.Candidates {
		result, why := "selected", ""
		if x := c.Excluded; x != nil {
			result = fmt.Sprintf("excluded at %d %s", x.Step, x.StepName)
			why = x.Observed + "; expected " + x.Expected
		}
		exp := ""
		if !c.NotAfter.IsZero() {
			exp = c.NotAfter.Format("2006-01-02")
		}
		if !c.Selected && c.Excluded == nil {
			result = "not selected"
		}
		rows = append(rows, []string{c.Name, c.Subject, exp, result, why})
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
