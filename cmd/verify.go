package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/verify"
)

// verifyExitCodes is the "Exit codes:" section of every verify command:
// those of a checking command, and what 1 and 3 mean here.
var verifyExitCodes = exitCodesHelp(checkCodes...) + `
  (1: at or above --fail-on, default error, also a PFX that the password
  does not open or that holds no key; 2 also for an unreadable input file
  or a PFX without any password given; 3 when the check could not run: an endpoint
  that cannot be reached, a --crl URL that cannot be fetched, a rule that
  failed to run)`

// verifyJSONHelp describes the JSON document, the same for every verify
// command.
const verifyJSONHelp = `Output: a table per input on stdout and a summary line on stderr; with
--output json one document, {"schema": "cmgpki/verify/v1", "command", "reports":
[...], "summary"}, with one report per input (also for a single input). Each
report has "input", "profile" (name, how: given|auto|none, reason), "certificate",
"chain" (elements with CAPI2 trust status flags and revocation results),
"findings" (id, level error|warn|notice, message, windows {name, hresult,
winhttp}, fix, source, origin) and "max_level".`

func newVerifyCmd(f *Factory) *cobra.Command {
	c := groupCmd("verify", "check certificates, endpoints, CRLs and client certificate selection as a ConfigMgr client on Windows would")
	c.Long = `Preflight before a rollout: judge any certificate (from AD CS, a public CA,
openssl or cmgpki), a live TLS endpoint, a CRL, or the certificates a client
would choose from, the way a ConfigMgr client on Windows (CryptoAPI) does,
and name the error it would log with a one-line fix.

` + verifyJSONHelp + "\n\n" + verifyExitCodes
	c.Example = `  cmgpki verify cert cmg-lab/certs/cmg-server.pfx --roots cmg-lab/ca --password-file cmg-lab/pfx-password.txt
  cmgpki verify endpoint https://mp.contoso.com --roots root.cer
  cmgpki verify client-selection cmg-lab/certs --roots cmg-lab/ca --computer client01
  # after "cmgpki crl --lab cmg-lab" (or while serve runs)
  cmgpki verify crl cmg-lab/crl/issuing-ca.crl --issuer cmg-lab/ca/issuing-ca.crt`
	c.AddCommand(newVerifyCertCmd(f, nil), newVerifyEndpointCmd(f, nil), newVerifySelectionCmd(f, nil), newVerifyCRLCmd(f, nil))
	return c
}

// reportFlags are the output flags every verify command has.
type reportFlags struct {
	output, failOn, at string
	cmVersion          int
}

// addCMVersion adds --cm-version to a command whose certificates the
// profile rules judge.
func (r *reportFlags) addCMVersion(c *cobra.Command) {
	c.Flags().IntVar(&r.cmVersion, "cm-version", 0, "Configuration Manager site version (YYMM, such as 2403) the role requirements are judged for (default: the latest)")
}

// checkWithEnv is check plus the rule environment, for the commands whose
// certificates the profile rules judge (--cm-version).
func (r *reportFlags) checkWithEnv(f *Factory) (lint.Status, time.Time, lint.Env, error) {
	failOn, at, err := r.check(f)
	if err != nil {
		return 0, time.Time{}, lint.Env{}, err
	}
	env, err := r.env(at)
	return failOn, at, env, err
}

// env is the rule environment: the evaluation time and the site version.
func (r *reportFlags) env(at time.Time) (lint.Env, error) {
	if v := r.cmVersion; v != 0 && (v < 1511 || v > 9912 || v%100 < 1 || v%100 > 12) {
		return lint.Env{}, usageErr(fmt.Errorf("--cm-version %d: want a current-branch version as YYMM, such as 2403", v))
	}
	return lint.Env{At: at, CMVersion: r.cmVersion}, nil
}

func (r *reportFlags) add(c *cobra.Command) {
	addOutputFlag(c, &r.output)
	addFailOnFlag(c, &r.failOn)
	c.Flags().StringVar(&r.at, "at", "", "evaluation time, RFC 3339 (default now); validity and --crl files are judged at this time, OCSP and CDP answers fetched online when fetched")
	_ = c.RegisterFlagCompletionFunc("fail-on", choices(func() []string { return []string{"error", "warn", "notice"} }))
}

// check validates the output flags and returns the threshold and the
// evaluation time.
func (r *reportFlags) check(f *Factory) (lint.Status, time.Time, error) {
	if err := outputFormat(r.output); err != nil {
		return 0, time.Time{}, err
	}
	lvl, err := parseFailOn(r.failOn)
	if err != nil {
		return 0, time.Time{}, err
	}
	at := f.Clock.Now()
	if r.at != "" {
		t, err := time.Parse(time.RFC3339, r.at)
		if err != nil {
			return 0, time.Time{}, usageErr(fmt.Errorf("--at: %q is not an RFC 3339 time (for example 2026-12-01T08:00:00Z)", r.at))
		}
		at = t
	}
	return lvl, at.UTC(), nil
}

// trustFlags are the client's stores: --roots, --intermediates,
// --system-roots.
type trustFlags struct {
	roots, intermediates []string
	systemRoots          bool
}

func (t *trustFlags) add(c *cobra.Command) {
	c.Flags().StringSliceVar(&t.roots, "roots", nil, "trusted roots: a file (PEM, DER, P7B) or a directory of them (repeatable); the client's Trusted Root store. A certificate that is not self-signed is used as an intermediate")
	c.Flags().StringSliceVar(&t.intermediates, "intermediates", nil, "intermediate CA certificates: a file or a directory (repeatable); the client's Intermediate CA store")
	c.Flags().BoolVar(&t.systemRoots, "system-roots", false, "also trust this machine's system roots (not the Windows client's store: say so in reports you share)")
	for _, n := range []string{"roots", "intermediates"} {
		_ = c.RegisterFlagCompletionFunc(n, cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	}
}

// load reads the stores. A certificate in --roots that is not self-signed
// is an intermediate (a Note says so): a root store holds self-signed
// roots, and a directory such as a lab's ca/ holds both.
func (t *trustFlags) load(f *Factory) (roots, inters []*x509.Certificate, err error) {
	rs, err := readCertSources("--roots", t.roots)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range rs {
		if isSelfSigned(c) {
			roots = append(roots, c)
		} else {
			f.notef("--roots: %s is not self-signed; it is used as an intermediate CA", displayCert(c))
			inters = append(inters, c)
		}
	}
	is, err := readCertSources("--intermediates", t.intermediates)
	if err != nil {
		return nil, nil, err
	}
	inters = append(inters, is...)
	if t.systemRoots {
		sys, from, err := systemRootCerts(f.Getenv)
		if err != nil {
			return nil, nil, usageErr(fmt.Errorf("--system-roots: %w", err))
		}
		f.notef("--system-roots: %d roots from %s (this machine's store, not a Windows client's)", len(sys), from)
		roots = append(roots, sys...)
	}
	if len(roots) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "Warning: no trusted roots given (--roots or --system-roots): every chain ends at an untrusted root")
	}
	return roots, inters, nil
}

// isSelfSigned reports a self-signed certificate. A SHA-1 signature counts
// (Go refuses to check it; Windows trusts SHA-1 enterprise roots).
func isSelfSigned(c *x509.Certificate) bool {
	if string(c.RawIssuer) != string(c.RawSubject) {
		return false
	}
	err := c.CheckSignatureFrom(c)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

func displayCert(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", certio.DN(c.RawSubject))
}

// certExts are the file name extensions read from a directory.
var certExts = map[string]bool{".crt": true, ".cer": true, ".pem": true, ".der": true, ".p7b": true, ".p7c": true}

// readCertSources reads the certificates of files and directories given
// with flag; a directory contributes its files with a certificate
// extension (.crt .cer .pem .der .p7b .p7c), not recursing.
func readCertSources(flag string, srcs []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	seen := map[string]bool{}
	for _, src := range srcs {
		files, err := expandDir(flag, src, certExts)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			b, err := certio.ReadCertificates(file, certio.ReadOptions{})
			if err != nil {
				return nil, usageErr(fmt.Errorf("%s %s: %w", flag, file, err))
			}
			for _, c := range b.Certs {
				if !seen[string(c.Raw)] {
					seen[string(c.Raw)] = true
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}

// expandDir returns src, or the files of directory src with one of exts,
// sorted.
func expandDir(flag, src string, exts map[string]bool) ([]string, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s %s: %w", flag, src, errors.Unwrap(err)))
	}
	if !fi.IsDir() {
		return []string{src}, nil
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s %s: %w", flag, src, err))
	}
	var files []string
	for _, e := range ents {
		if e.Type().IsRegular() && exts[strings.ToLower(filepath.Ext(e.Name()))] {
			files = append(files, filepath.Join(src, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, usageErr(fmt.Errorf("%s %s: the directory holds no certificate files (%s)", flag, src, strings.Join(sortedKeys(exts), " ")))
	}
	sort.Strings(files)
	return files, nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// systemRootCerts reads this machine's root bundle: $SSL_CERT_FILE, or the
// first bundle of the usual places on Linux and BSD. crypto/x509's system
// pool cannot be listed, and the chain builder needs the certificates.
func systemRootCerts(getenv func(string) string) ([]*x509.Certificate, string, error) {
	files := []string{getenv("SSL_CERT_FILE")}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		files = append(files, "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
			"/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem", "/etc/ssl/cert.pem", "/usr/local/share/certs/ca-root-nss.crt")
	}
	for _, file := range files {
		if file == "" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		certs, err := certio.ParseCertificates(data)
		if err == nil && len(certs) > 0 {
			return certs, file, nil
		}
	}
	return nil, "", fmt.Errorf("no system root bundle found on %s (set SSL_CERT_FILE; on Windows export the roots with \"certutil -store -split root\" and give --roots DIR)", runtime.GOOS)
}

// revFlags are the revocation flags: --crl, --crl-check, --no-crl-check,
// --aia-fetch.
type revFlags struct {
	crls                []string
	crlCheck, noCRLMode bool
	aiaFetch            bool
}

func (r *revFlags) add(c *cobra.Command, aia bool) {
	c.Flags().StringSliceVar(&r.crls, "crl", nil, "a CRL file (PEM or DER) or http:// URL, used before fetching the CDP (repeatable)")
	c.Flags().BoolVar(&r.crlCheck, "crl-check", true, "check revocation as a ConfigMgr client does (the default): OCSP, then the CDP over HTTP; an unreachable CRL is a failure")
	c.Flags().BoolVar(&r.noCRLMode, "no-crl-check", false, "do not check revocation (a notice says what that means for a client)")
	if aia {
		c.Flags().BoolVar(&r.aiaFetch, "aia-fetch", false, "download missing issuers from the AIA caIssuers URL, as Windows does (a warning says the chain is complete only that way)")
	}
}

// options fills the revocation fields of co: CRLs, mode, fetcher and the
// time fetched answers are judged at (now: co.At may be --at).
func (r *revFlags) options(ctx context.Context, f *Factory, c *cobra.Command, co *verify.ChainOptions) error {
	if c.Flags().Changed("crl-check") && c.Flags().Changed("no-crl-check") && r.crlCheck && r.noCRLMode {
		return &UsageError{Err: errors.New("--crl-check and --no-crl-check are exclusive"), ShowUsage: true}
	}
	check := r.crlCheck && !r.noCRLMode
	crls, err := readCRLSources(ctx, r.crls)
	if err != nil {
		return err
	}
	co.CRLs = crls
	co.AIAFetch = r.aiaFetch
	if check {
		co.Revocation = verify.RevocationChainExcludeRoot
	}
	if check || r.aiaFetch {
		co.Fetcher = &verify.HTTPFetcher{}
	}
	if check {
		// What a client does: an answer is judged fresh when it is fetched;
		// the certificates (and the CRLs of --crl) are judged at --at.
		now := f.Clock.Now().UTC()
		co.FetchedAt = now
		if d := co.At.Sub(now); d > time.Minute || d < -time.Minute {
			f.notef("--at %s is not now: OCSP and CDP answers fetched online are judged at fetch time (%s), certificates and --crl files at --at",
				co.At.Format(time.RFC3339), now.Format(time.RFC3339))
		}
	}
	return nil
}

// readCRLSources reads --crl values: files, or http:// URLs fetched now.
func readCRLSources(ctx context.Context, srcs []string) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for _, src := range srcs {
		if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
			der, err := fetchCRL(ctx, src)
			if err != nil {
				return nil, err
			}
			rl, err := parseCRLBytes(src, der)
			if err != nil {
				return nil, usageErr(fmt.Errorf("--crl %s: %w", src, err))
			}
			out = append(out, rl)
			continue
		}
		rls, err := certio.ReadCRLs(src)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--crl: %w", err))
		}
		out = append(out, rls...)
	}
	return out, nil
}

// fetchCRL gets a CRL URL with the Windows timeout and size limit; failure
// is operational (exit 3).
func fetchCRL(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, verify.DefaultURLTimeout)
	defer cancel()
	der, err := (&verify.HTTPFetcher{}).Fetch(ctx, u, verify.DefaultMaxCRLBytes)
	if err != nil {
		return nil, fmt.Errorf("verify: fetching CRL %s: %w", u, err)
	}
	return der, nil
}

func parseCRLBytes(name string, data []byte) (*x509.RevocationList, error) {
	b, err := certio.ParseBundle(name, data, certio.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if len(b.CRLs) == 0 {
		return nil, fmt.Errorf("%s: %w", name, certio.ErrNoCRL)
	}
	return b.CRLs[0], nil
}

// emitReports prints the reports (a table per report, or the JSON
// document), the summary on stderr, and returns a *FindingsError when a
// finding reaches failOn.
func emitReports(f *Factory, command string, reports []*verify.Report, output string, failOn lint.Status) error {
	set := verify.NewReportSet(command, reports, failOn)
	if output == "json" {
		if err := renderJSON(f.IO.Out, set); err != nil {
			return err
		}
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(f.IO.Out)
			}
			if err := renderReport(f, r); err != nil {
				return err
			}
		}
	}
	s := set.Summary
	var fatal []string
	for _, r := range reports {
		for _, fd := range r.Findings {
			if fd.Level == lint.Fatal {
				fatal = append(fatal, fd.ID+": "+fd.Message)
			}
		}
	}
	if len(fatal) > 0 {
		// As every checking command: a rule that could not run makes the
		// check incomplete (exit 3), whatever the threshold.
		return fmt.Errorf("verify %s: check incomplete: %s", command, strings.Join(fatal, "; "))
	}
	verdict := "passed"
	if s.Failed {
		verdict = "failed"
	}
	fmt.Fprintf(f.IO.ErrOut, "Checked %s: %s, %s, %s; %s at --fail-on %s\n",
		inputNoun(s.Inputs, command), plural(s.Counts["error"], "error", "errors"), plural(s.Counts["warn"], "warning", "warnings"),
		plural(s.Counts["notice"], "notice", "notices"), verdict, s.FailOn)
	if s.Failed {
		return &FindingsError{Msg: fmt.Sprintf("verify %s: findings at or above %s (highest: %s)", command, s.FailOn, s.MaxLevel)}
	}
	return nil
}

// inputNoun counts the inputs of a verify command: "1 certificate", "2 CRLs".
func inputNoun(n int, command string) string {
	what := map[string]string{"cert": "certificate", "endpoint": "endpoint", "crl": "CRL", "client-selection": "selection"}[command]
	return plural(n, what, what+"s")
}
