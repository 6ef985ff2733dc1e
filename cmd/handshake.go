package cmd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/handshake"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
)

type handshakeOptions struct {
	lab             string
	scenario        string
	noCRLCheck      bool
	at              string
	output          string
	keyPasswordFile string
	scenarioSet     bool
	logs            string
	report          string
	siteNoCRLCheck  bool
	// Your own certificates.
	cmgCert, mpCert, cpCert, clientCert string
	roots                               []string
	passwordFile                        string
}

func newHandshakeCmd(f *Factory) *cobra.Command {
	o := &handshakeOptions{}
	c := &cobra.Command{
		Use:   "handshake --lab DIR [--scenario NAME|all] [--no-crl-check] [--logs DIR]",
		Short: "run the client flow through a simulated CMG, connection point, MP and Entra on loopback TLS",
		Long: `Run the ConfigMgr client flow of the Microsoft documents (ccmsetup, then the CCM
client) through the lab's certificates: a CMG, a CMG connection point, a management
point, an Entra token service and the lab's revocation server run as real HTTPS
(and HTTP) servers on 127.0.0.1, reached by their real names through the
simulator's own resolver (nothing edits the hosts file). The client judges every
certificate with verify's code, as 'cmgpki verify' does.

Steps: cmg-tls (the client's chain and revocation check of the CMG certificate),
aad-info (AADAuthInfo for the tenant), auth-choice (a valid PKI client certificate
wins; else a device token, then a user token), ccm-token (CCM_STS through CMG,
connection point and MP), location, registration, token-renewal (the simulated
clock advances past the CCM token's 8 hours) and security-settings (the site's
CRL setting replaces /NoCRLCheck).

One row per step: step, component, result, detail, the Windows error the client
would log, and the fix. --scenario all runs the scenario matrix: scenario,
expected, got, failing step, code. --output json prints {"schema":
"cmgpki/handshake/v1", "scenarios": [{"name", "description", "expected", "got",
"expected_failing_step", "failing_step", "code", "windows_error", "steps": [{"step", "component",
"time", "result", "detail", "evidence", "windows_error", "http", "fix", "proof", "tls": [{"from", "to",
"server_chain", "client_chain": [{"subject", "issuer", "thumbprint_sha1", "not_after", "status"}],
"tls_version", "cipher"}]}]}]}: each TLS connection of the step, the chains presented and the
verifier's status of each element ("OK", or the CERT_TRUST_ flags without the prefix).

--logs DIR writes the logs of the run: ccmsetup.log, ClientIDManagerStartup.log,
LocationServices.log, CcmMessaging.log and ADALOperationProvider.log in CMTrace
format; CMGService.log, SMS_CLOUD_PROXYCONNECTOR.log, CCM_STS.log and
MP_RegistrationManager.log in the site-server format (EntraTokenService.log is
the simulator's own). Times are the simulated UTC times.

Modelled, not copied (not public): the CMG to connection point channel, the CCM
token format, the MP's replies and the location and policy payloads. CCM messages
are CCM_POST multipart bodies as public re-implementations document them, and the
registration request is signed and verified. The simulated time starts at --at
(default now); the lab's certificates must be valid then.

Scenarios: ` + strings.Join(handshake.Names(), ", ") + `.

Exit codes:
  0  success: every scenario run gave its expected outcome
  1  a scenario's outcome differs from the expected one (for the default
     scenario: the flow failed)
  2  usage or input error (bad flag, unknown scenario, not a lab); nothing was written
  3  operational error (listener, I/O)`,
		Example: `  cmgpki handshake --lab cmg-lab
  cmgpki handshake --lab cmg-lab --scenario all
  cmgpki handshake --lab cmg-lab --scenario crl-unreachable
  cmgpki handshake --lab cmg-lab --no-crl-check --output json
  cmgpki handshake --lab cmg-lab --scenario all --logs cmg-logs`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o.scenarioSet = c.Flags().Changed("scenario")
			return runHandshake(c.Context(), f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.lab, "lab", "", "lab directory (cmgpki lab create)")
	fl.StringVar(&o.scenario, "scenario", handshake.Happy, "scenario to run, or all for the matrix")
	fl.BoolVar(&o.noCRLCheck, "no-crl-check", false, "ccmsetup /NoCRLCheck: the bootstrap does not check revocation (one scenario only)")
	fl.StringVar(&o.at, "at", "", "simulated start time, RFC 3339 (default now)")
	fl.BoolVar(&o.siteNoCRLCheck, "site-no-crl-check", false, "the site's \"Clients check the CRL for site systems\" is cleared")
	fl.StringVar(&o.cmgCert, "cmg-cert", "", "your CMG server certificate: a PFX, or PEM with its key (replaces the lab's)")
	fl.StringVar(&o.mpCert, "mp-cert", "", "your management point HTTPS certificate, PFX or PEM with key")
	fl.StringVar(&o.cpCert, "cp-cert", "", "your CMG connection point client certificate, PFX or PEM with key")
	fl.StringVar(&o.clientCert, "client-cert", "", "your PKI client certificate, PFX or PEM with key (runs pki-client-preferred by default)")
	fl.StringSliceVar(&o.roots, "roots", nil, "your trusted roots (and intermediates): files or directories (repeatable); added to every store and uploaded to the CMG")
	fl.StringVar(&o.passwordFile, "password-file", "", "password of your PFX files (or $CMGPKI_PFX_PASSWORD)")
	fl.StringVar(&o.report, "report", "", "write the run as a self-contained HTML report (FILE.html; with --scenario all, FILE-SCENARIO.html per scenario): sequence diagram with the failing step marked, evidence beside each step, the certificate chain of each TLS hop")
	fl.StringVar(&o.logs, "logs", "", "write each component's log into DIR (DIR/SCENARIO with --scenario all): client logs in CMTrace format, site logs in the site-server format")
	fl.StringVar(&o.keyPasswordFile, "key-password-file", "", "password of encrypted lab keys (or $CMGPKI_KEY_PASSWORD)")
	addOutputFlag(c, &o.output)
	return c
}

func runHandshake(ctx context.Context, f *Factory, o *handshakeOptions) error {
	if o.lab == "" {
		return &UsageError{Err: errors.New("--lab is required"), ShowUsage: true}
	}
	if err := outputFormat(o.output); err != nil {
		return err
	}
	if o.clientCert != "" && o.scenario == handshake.Happy && !o.scenarioSet {
		o.scenario = "pki-client-preferred"
	}
	var names []string
	if o.scenario == "all" {
		if o.noCRLCheck {
			return usageErr(errors.New("--no-crl-check applies to one scenario; the matrix already has no-crl-check-bootstrap"))
		}
	} else {
		if _, err := handshake.Find(o.scenario); err != nil {
			return usageErr(fmt.Errorf("--scenario: %w", err))
		}
		names = []string{o.scenario}
	}
	at := f.Clock.Now().UTC().Truncate(time.Second)
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageErr(fmt.Errorf("--at %q: want RFC 3339 (2026-11-22T08:00:00Z): %v", o.at, err))
		}
		at = t
	}
	kp, err := f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD")
	if err != nil {
		return err
	}
	m, err := handshake.Load(o.lab, kp)
	if err != nil {
		if errors.Is(err, lab.ErrNotLab) || strings.Contains(err.Error(), "lab") {
			return usageErr(fmt.Errorf("--lab %s: %w", o.lab, err))
		}
		return err
	}
	own, err := readOwn(f, o)
	if err != nil {
		return err
	}
	if own != nil {
		if o.scenario == "all" || !slices.Contains(handshake.OwnScenarios, o.scenario) {
			return usageErr(fmt.Errorf("--scenario %s: with your own certificates run one of %s", o.scenario, strings.Join(handshake.OwnScenarios, ", ")))
		}
		var whose []handshake.Whose
		if m, whose, err = m.WithOwn(*own); err != nil {
			return usageErr(err)
		}
		for _, w := range whose {
			f.notef("%s certificate: %s (%s)", w.Role, w.Source, w.Subject)
		}
		f.notef("the simulator serves only the lab's CRL and OCSP URLs: your certificates' revocation is offline here (0x80092013); check it at the real URLs with cmgpki verify endpoint, and run with --no-crl-check --site-no-crl-check to test the rest of the flow")
	}
	mx, err := handshake.RunMatrix(ctx, m, names, handshake.Options{At: at, NoCRLCheck: o.noCRLCheck, SiteNoCRLCheck: o.siteNoCRLCheck})
	if err != nil {
		return err
	}
	if o.logs != "" {
		n := 0
		for _, s := range mx.Scenarios {
			dir := o.logs
			if o.scenario == "all" {
				dir = filepath.Join(o.logs, s.Name)
			}
			files, err := handshake.WriteLogs(dir, s.Log)
			if err != nil {
				return err
			}
			n += len(files)
		}
		f.notef("wrote %d log file(s) under %s", n, o.logs)
	}
	if o.report != "" {
		for _, s := range mx.Scenarios {
			path := o.report
			if o.scenario == "all" {
				path = strings.TrimSuffix(o.report, filepath.Ext(o.report)) + "-" + s.Name + ".html"
			}
			run := flow.Flow{Schema: mx.Schema, Scenario: s.Name, Result: s.Got, FailingStep: s.FailingStep,
				Code: s.Windows, Notes: s.Notes, Steps: s.Steps}
			if err := writeFlowReport(path, "cmgpki handshake: "+s.Name, &run, nil, nil, f.Clock.Now()); err != nil {
				return err
			}
			f.notef("wrote the report of %s to %s", s.Name, path)
		}
	}
	if strings.EqualFold(o.output, "json") {
		if err := renderJSON(f.IO.Out, mx); err != nil {
			return err
		}
	} else if err := renderHandshake(f, mx, o.scenario == "all"); err != nil {
		return err
	}
	bad := 0
	for _, s := range mx.Scenarios {
		if !s.AsExpected() {
			bad++
		}
	}
	if o.scenario == "all" {
		fmt.Fprintf(f.IO.ErrOut, "%d scenario(s), %d as expected, %d not\n", len(mx.Scenarios), len(mx.Scenarios)-bad, bad)
	} else {
		s := mx.Scenarios[0]
		for _, n := range s.Notes {
			f.notef("%s", n)
		}
		msg := fmt.Sprintf("handshake %s: %s (expected %s)", s.Name, s.Got, s.Expected)
		if s.FailingStep != "" {
			msg += fmt.Sprintf(", failing step %s", s.FailingStep)
			if s.Code != "" {
				msg += ": " + s.Code
			}
		}
		fmt.Fprintln(f.IO.ErrOut, msg)
	}
	if bad > 0 {
		return &FindingsError{Msg: fmt.Sprintf("handshake: %d scenario(s) did not give the expected outcome", bad)}
	}
	return nil
}

func renderHandshake(f *Factory, mx *handshake.Matrix, matrix bool) error {
	if matrix {
		cols := []column{{Header: "SCENARIO", Priority: 1}, {Header: "EXPECTED", Priority: 1}, {Header: "GOT", Priority: 1},
			{Header: "FAILING STEP", Priority: 1}, {Header: "CODE", Priority: 2, Min: 12, Shrink: cutEnd}, {Header: "AS EXPECTED", Priority: 1}}
		var rows [][]string
		for _, s := range mx.Scenarios {
			ok := "yes"
			if !s.AsExpected() {
				ok = "NO (expected " + dash(s.ExpectedStep) + ")"
			}
			rows = append(rows, []string{s.Name, string(s.Expected), string(s.Got), dash(s.FailingStep), dash(s.Code), ok})
		}
		return renderTable(f, cols, rows)
	}
	s := mx.Scenarios[0]
	cols := []column{{Header: "STEP", Priority: 1}, {Header: "COMPONENT", Priority: 2}, {Header: "RESULT", Priority: 1},
		{Header: "DETAIL", Priority: 1, Min: 30, Shrink: wrapWords}, {Header: "WINDOWS ERROR", Priority: 2, Min: 12, Shrink: cutEnd},
		{Header: "FIX", Priority: 3, Min: 20, Shrink: wrapWords}}
	var rows [][]string
	for _, st := range s.Steps {
		code := st.HTTP
		if !st.Windows.IsZero() {
			code = fmt.Sprintf("%s 0x%08X", st.Windows.Name, st.Windows.HRESULT)
		}
		rows = append(rows, []string{st.ID, st.Component, string(st.Status), st.Detail, dash(code), dash(st.Fix)})
	}
	return renderTable(f, cols, rows)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readOwn reads the user's certificates; nil when none is given.
func readOwn(f *Factory, o *handshakeOptions) (*handshake.Own, error) {
	if o.cmgCert == "" && o.mpCert == "" && o.cpCert == "" && o.clientCert == "" && len(o.roots) == 0 {
		return nil, nil
	}
	pw, err := f.secret("--password-file", o.passwordFile, "CMGPKI_PFX_PASSWORD")
	if err != nil {
		return nil, err
	}
	own := &handshake.Own{}
	for _, x := range []struct {
		flag, file string
		dst        **tls.Certificate
	}{{"--cmg-cert", o.cmgCert, &own.CMG}, {"--mp-cert", o.mpCert, &own.MP}, {"--cp-cert", o.cpCert, &own.CP}, {"--client-cert", o.clientCert, &own.Client}} {
		if x.file == "" {
			continue
		}
		b, err := certio.ReadCertificates(x.file, certio.ReadOptions{Password: pw})
		if err != nil {
			if errors.Is(err, certio.ErrWrongPassword) {
				return nil, usageErr(fmt.Errorf("%s %s: wrong or missing password (give --password-file or set CMGPKI_PFX_PASSWORD): %w", x.flag, x.file, err))
			}
			return nil, usageErr(fmt.Errorf("%s %s: %w", x.flag, x.file, err))
		}
		if len(b.Certs) == 0 || b.Key == nil {
			return nil, usageErr(fmt.Errorf("%s %s: need the certificate and its private key (a PFX, or PEM with the key)", x.flag, x.file))
		}
		if err := certio.KeyMatchesCertificate(b.Key, b.Certs[0]); err != nil {
			return nil, usageErr(fmt.Errorf("%s %s: %w", x.flag, x.file, err))
		}
		tc := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Certs[0]}
		for _, c := range b.Certs {
			if c != b.Certs[0] && bytes.Equal(c.RawIssuer, c.RawSubject) {
				continue // a root is not sent
			}
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
		*x.dst = tc
	}
	for _, src := range o.roots {
		certs, err := readCertSources("--roots", []string{src})
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, c.RawSubject) {
				own.Roots = append(own.Roots, c)
			} else {
				own.Intermediates = append(own.Intermediates, c)
			}
		}
	}
	return own, nil
}
