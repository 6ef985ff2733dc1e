package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/handshake"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
	"github.com/cmgpki/cmgpki/verify"
)

// DemoSchema is the schema of demo's JSON document.
const DemoSchema = "cmgpki/demo/v1"

type demoOptions struct {
	out             string
	output          string
	keyPasswordFile string
}

// demoView is the JSON document of demo.
type demoView struct {
	Schema string `json:"schema"`
	Lab    string `json:"lab"`
	// Created is true when this run made the lab, false when it reused one.
	Created bool   `json:"created"`
	BaseURL string `json:"base_url"`
	// RevocationServer is where the in-process revocation server listened;
	// the base URL's address unless that could not be served (then the
	// preflight reached this server in its place).
	RevocationServer string            `json:"revocation_server"`
	At               time.Time         `json:"at"`
	Preflight        *verify.ReportSet `json:"preflight"`
	Handshake        *handshake.Matrix `json:"handshake"`
	// Passed: no preflight finding at error level and every scenario gave
	// its expected outcome.
	Passed bool     `json:"passed"`
	Next   []string `json:"next"`
}

func newDemoCmd(f *Factory, runF func(*cobra.Command, *demoOptions) error) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "make a lab, serve its revocation, preflight every certificate and run the handshake scenario matrix",
		Long: `The first command to run: everything cmgpki does, on the built-in defaults
(contoso.com), in about two seconds.

1. Lab: makes a default lab in DIR (as "cmgpki lab create"), or reuses the
   cmgpki lab already there. A new lab's base URL (CDP, AIA, OCSP) is
   http://127.0.0.1:PORT, a free loopback port.
2. Revocation: serves the lab's CRLs, CA certificates and OCSP in-process
   at that base URL (as "cmgpki serve"), for the length of the run. A reused
   lab is served at its base URL when that is a free loopback address;
   otherwise (port in use, another host) on a free loopback port, and the
   preflight's HTTP client reaches it in place of the base URL's address (a
   Note says so; the certificates are not changed).
3. Preflight: judges every certificate of the lab as its role with the
   lab's CAs as the client's stores and revocation checked online, OCSP
   then the CDP, as "cmgpki verify cert" does.
4. Handshake: runs every scenario of "cmgpki handshake --scenario all" (the
   ccmsetup and CCM client flow through a simulated CMG, connection point,
   management point and Entra over real TLS on 127.0.0.1), each with its
   expected outcome.

Output: the preflight table (one row per certificate, then the findings) and
the scenario matrix on stdout; progress and what to try next on stderr.
--output json prints {"schema": "cmgpki/demo/v1", "lab", "created",
"base_url", "revocation_server", "at", "preflight" (the cmgpki/verify/v1
document of "verify cert"), "handshake" (the cmgpki/handshake/v1 matrix),
"passed", "next"}.

Arguments:
  none; see the flags.

Exit codes:
  0  success: the preflight has no error and every scenario gave its
     expected outcome
  1  the preflight found an error, or a scenario's outcome differs from the
     expected one
  2  usage or input error (bad flag; --out exists and is neither a cmgpki
     lab nor an empty directory); nothing was written
  3  operational error (listener, I/O, signing)`,
		Example: `  cmgpki demo
  cmgpki demo --out cmg-lab
  cmgpki demo --out cmg-demo --output json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(c, o)
			}
			return runDemo(c.Context(), f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.out, "out", "cmg-demo", "lab directory: made when absent or empty, reused when it holds a cmgpki lab")
	fl.StringVar(&o.keyPasswordFile, "key-password-file", "", "password of the lab's encrypted keys (or $CMGPKI_KEY_PASSWORD); a new lab's keys are encrypted with it")
	addOutputFlag(c, &o.output)
	return c
}

func runDemo(ctx context.Context, f *Factory, o *demoOptions) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	o.output = strings.ToLower(o.output)
	if o.out == "" {
		return usageErr(errors.New("--out: give a directory"))
	}
	kp, err := f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD")
	if err != nil {
		return err
	}
	reuse, err := demoDirState(o.out)
	if err != nil {
		return err
	}
	v := &demoView{Schema: DemoSchema, Lab: o.out, Created: !reuse, At: f.Clock.Now().UTC().Truncate(time.Second)}

	// The listener first: a new lab's base URL is where it listens.
	var ln net.Listener
	var fetcher *verify.HTTPFetcher
	if reuse {
		m, err := lab.ReadManifest(o.out)
		if err != nil {
			return usageErr(fmt.Errorf("--out %s: %w", o.out, err))
		}
		v.BaseURL = m.BaseURL
		if ln, fetcher, err = demoListenFor(f, m.BaseURL); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Reusing lab %s (base URL %s)\n", o.out, m.BaseURL)
	} else {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("demo: listen on 127.0.0.1: %w", err)
		}
		v.BaseURL = "http://" + ln.Addr().String()
		fetcher = &verify.HTTPFetcher{}
		fmt.Fprintf(f.IO.ErrOut, "Making lab %s (base URL %s) ...\n", o.out, v.BaseURL)
		if err := demoCreateLab(ctx, f, o.out, v.BaseURL, kp); err != nil {
			ln.Close()
			return err
		}
	}
	v.RevocationServer = "http://" + ln.Addr().String()
	pwFrom := f.secretSource("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD")
	mats, err := handshake.Load(o.out, kp)
	if err != nil {
		ln.Close()
		return demoLabErr(o.out, pwFrom, err)
	}
	stop, err := demoServe(ctx, f, o.out, kp, pwFrom, ln)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(f.IO.ErrOut, "Serving the lab's CRLs, CA certificates and OCSP on %s for this run\n", v.RevocationServer)

	if v.Preflight, err = demoPreflight(ctx, f, o.out, mats.Lab, kp, v.At, fetcher); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Handshake: running %s over TLS on 127.0.0.1 ...\n", plural(len(handshake.Names()), "scenario", "scenarios"))
	if v.Handshake, err = handshake.RunMatrix(ctx, mats, nil, handshake.Options{At: v.At}); err != nil {
		return err
	}
	stop()

	bad := 0
	for _, s := range v.Handshake.Scenarios {
		if !s.AsExpected() {
			bad++
		}
	}
	sum := v.Preflight.Summary
	v.Passed = !sum.Failed && bad == 0
	v.Next = demoNext(o.out, mats.Lab, v.BaseURL)
	var fatal []string
	for _, r := range v.Preflight.Reports {
		for _, fd := range r.Findings {
			if fd.Level == lint.Fatal {
				fatal = append(fatal, r.Input.File+": "+fd.ID+": "+fd.Message)
			}
		}
	}

	if o.output == "json" {
		if err := renderJSON(f.IO.Out, v); err != nil {
			return err
		}
	} else if err := renderDemo(f, v); err != nil {
		return err
	}
	if len(fatal) > 0 {
		// As verify: a rule that could not run leaves the check incomplete.
		return fmt.Errorf("demo: preflight incomplete: %s", strings.Join(fatal, "; "))
	}
	fmt.Fprintf(f.IO.ErrOut, "Preflight: %s, %s, %s, %s\n", plural(sum.Inputs, "certificate", "certificates"),
		plural(sum.Counts["error"], "error", "errors"), plural(sum.Counts["warn"], "warning", "warnings"), plural(sum.Counts["notice"], "notice", "notices"))
	n := len(v.Handshake.Scenarios)
	fmt.Fprintf(f.IO.ErrOut, "Handshake: %s, %d as expected, %d not\n", plural(n, "scenario", "scenarios"), n-bad, bad)
	fmt.Fprintln(f.IO.ErrOut, "Next:")
	for _, line := range v.Next {
		fmt.Fprintf(f.IO.ErrOut, "  %s\n", line)
	}
	var why []string
	if sum.Failed {
		why = append(why, "the preflight found "+plural(sum.Counts["error"], "error", "errors"))
	}
	if bad > 0 {
		why = append(why, plural(bad, "scenario", "scenarios")+" did not give the expected outcome")
	}
	if len(why) > 0 {
		return &FindingsError{Msg: "demo: " + strings.Join(why, "; ")}
	}
	return nil
}

// demoDirState reports whether dir holds a cmgpki lab to reuse; false when
// it is absent or an empty directory (a lab is made there). Anything else
// is a usage error, before anything is written.
func demoDirState(dir string) (reuse bool, err error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, usageErr(fmt.Errorf("--out %s: %w", dir, errors.Unwrap(err)))
	}
	if !fi.IsDir() {
		return false, usageErr(fmt.Errorf("--out %s: not a directory: give a new directory, or a lab made by cmgpki lab create", dir))
	}
	if _, err := os.Stat(filepath.Join(dir, lab.ManifestFile)); err == nil {
		return true, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, usageErr(fmt.Errorf("--out %s: %w", dir, err))
	}
	if len(ents) > 0 {
		return false, usageErr(fmt.Errorf("--out %s: the directory is not empty and is not a cmgpki lab (no %s): give a new directory, or a lab made by cmgpki lab create", dir, lab.ManifestFile))
	}
	return false, nil
}

// demoCreateLab makes the default lab (as lab create with --base-url).
func demoCreateLab(ctx context.Context, f *Factory, dir, baseURL string, keyPassword []byte) error {
	one, dev := 1, 1
	spec := &ca.LabSpec{Domain: "contoso.com", BaseURL: baseURL, Clients: &one, Devices: &dev, FromFlags: map[string]bool{}}
	opts := ca.LabOptions{Out: dir, Clock: f.Clock, Rand: f.Rand, Progress: f.IO.ErrOut, KeyPassword: keyPassword,
		Notes: func(n string) { f.notef("%s", n) }}
	m, err := ca.CreateLab(ctx, spec, opts)
	if err != nil {
		var se *ca.SpecError
		if errors.As(err, &se) {
			return usageErr(fmt.Errorf("--out %s: %w", dir, err))
		}
		return err
	}
	if m.PFXPasswordFile != "" {
		f.notef("the PFX password is in %s (0600); private keys are 0600", filepath.Join(dir, m.PFXPasswordFile))
	}
	return nil
}

// demoListenFor opens the revocation server's listener for a reused lab:
// at the base URL's address when it is a loopback address that is free,
// else on a free loopback port, with a fetcher that reaches it in place of
// the base URL's address (the certificates keep their URLs).
func demoListenFor(f *Factory, baseURL string) (net.Listener, *verify.HTTPFetcher, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil, nil, usageErr(fmt.Errorf("--out: %s: base_url %q is not a URL", lab.ManifestFile, baseURL))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	hostport := net.JoinHostPort(u.Hostname(), port)
	why := "it is not a loopback address"
	if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || strings.EqualFold(u.Hostname(), "localhost") {
		ln, err := net.Listen("tcp", hostport)
		if err == nil {
			return ln, &verify.HTTPFetcher{}, nil
		}
		why = err.Error()
		if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(why, "address already in use") {
			why = "its port is in use, perhaps by a running cmgpki serve"
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("demo: listen on 127.0.0.1: %w", err)
	}
	f.notef("the lab's base URL %s cannot be served here (%s): this run serves it on http://%s, and the preflight reaches that server in place of %s; the certificates' URLs are unchanged", baseURL, why, ln.Addr(), hostport)
	return ln, redirectFetcher(hostport, ln.Addr().String()), nil
}

// redirectFetcher is verify's HTTP fetcher with a dialer that connects to
// to whenever from (host:port) is dialled, as a hosts-file entry would.
func redirectFetcher(from, to string) *verify.HTTPFetcher {
	d := &net.Dialer{}
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.EqualFold(addr, from) {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}}
	return &verify.HTTPFetcher{Client: &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("more than %d redirects", 5)
		}
		if req.URL.Scheme != "http" {
			return fmt.Errorf("redirect to %s: only http:// is followed", req.URL.Redacted())
		}
		return nil
	}}}
}

// demoServe serves the lab's revocation data on ln, as serve does (CRLs
// signed first, OCSP signed on first request), and returns the function
// that stops it; stop may be called more than once.
func demoServe(ctx context.Context, f *Factory, dir string, keyPassword []byte, pwFrom string, ln net.Listener) (stop func(), err error) {
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	issuers, ld, err := labIssuers(dir, keyPassword, pwFrom)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(ld.Manifest.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: base_url: %w", dir, err)
	}
	// The demo serves from the lab's own SQLite store, whatever $CMGPKI_STORE says.
	st, _, err := openLabStore(ctx, dir, storeLoc{path: filepath.Join(dir, crl.StoreFile)})
	if err != nil {
		return nil, err
	}
	resp, err := crl.NewResponder(crl.ResponderConfig{Store: st, Clock: f.Clock, Issuers: issuers})
	if err != nil {
		st.Close()
		return nil, err
	}
	h := crl.NewHandler(crl.HandlerConfig{Responder: resp, Store: st, Clock: f.Clock, Issuers: issuers, BasePath: base.Path})
	u := &crl.Updater{Store: st, Clock: f.Clock, Issuers: issuers, PublishDir: filepath.Join(dir, "crl"), Handler: h}
	if _, err := u.RunOnce(ctx); err != nil {
		h.Close()
		st.Close()
		return nil, err
	}
	srv, err := crl.NewServer(h, crl.ServerConfig{}) // the engine cmgpki serve uses by default
	if err != nil {
		h.Close()
		st.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with nil when stopped
	}()
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		<-done
		h.Close()
		st.Close()
	}, nil
}

// demoPreflight judges every certificate of the lab as its role, as
// "cmgpki verify cert FILE --roots DIR/ca --key KEY --profile ROLE" does.
func demoPreflight(ctx context.Context, f *Factory, dir string, d *lab.Dir, keyPassword []byte, at time.Time, fetcher verify.Fetcher) (*verify.ReportSet, error) {
	var roots, inters []*x509.Certificate
	for _, e := range d.Manifest.CAs {
		c, err := d.Certificate(e.Name)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--out %s: %w", dir, err))
		}
		if isSelfSigned(c) {
			roots = append(roots, c)
		} else {
			inters = append(inters, c)
		}
	}
	co := verify.ChainOptions{At: at, Roots: roots, Intermediates: inters, MaxDepth: verify.DefaultMaxDepth,
		Revocation: verify.RevocationChainExcludeRoot, Fetcher: fetcher}
	fmt.Fprintf(f.IO.ErrOut, "Preflight: checking %s of %s as their roles, revocation online ...\n",
		plural(len(d.Manifest.Certificates), "certificate", "certificates"), dir)
	var reports []*verify.Report
	for _, e := range d.Manifest.Certificates {
		file := filepath.Join(dir, filepath.FromSlash(e.Files.Cert))
		b, err := certio.ReadCertificates(file, certio.ReadOptions{})
		if err != nil {
			return nil, usageErr(fmt.Errorf("--out %s: certificate %s: %w", dir, e.Name, err))
		}
		b.Name = file
		in := verify.CertInput{Bundle: b}
		if e.Files.Key != "" {
			kf := filepath.Join(dir, filepath.FromSlash(e.Files.Key))
			key, err := certio.ReadKey(kf, keyPassword)
			if err != nil {
				return nil, usageErr(fmt.Errorf("--out %s: key of %s: %w", dir, e.Name, err))
			}
			in.Key, in.KeyFile = key, kf
		}
		profile := "auto"
		if _, err := profiles.Get(e.Role); err == nil {
			profile = e.Role
		}
		rep, err := verify.CheckCertificate(ctx, in, verify.CertOptions{ChainOptions: co, Profile: profile, Env: lint.Env{At: at}})
		if err != nil {
			return nil, fmt.Errorf("demo: preflight of %s: %w", file, err)
		}
		rep.Input.File = file
		reports = append(reports, rep)
	}
	return verify.NewReportSet("cert", reports, lint.Error), nil
}

// demoLabErr blames a lab that handshake cannot load on --out, or on the
// key password when that is the cause.
func demoLabErr(dir, pwFrom string, err error) error {
	if errors.Is(err, certio.ErrKeyEncrypted) || errors.Is(err, certio.ErrKeyPassword) {
		return labLoadErr(dir, pwFrom, err)
	}
	return usageErr(fmt.Errorf("--out %s: %w", dir, err))
}

// demoNext is what to try next, as command lines with what each shows.
func demoNext(dir string, d *lab.Dir, baseURL string) []string {
	q := shellWord(dir)
	verifyCmd := "cmgpki verify cert " + shellWord(filepath.Join(dir, "certs", "cmg-server.crt")) + " --roots " + shellWord(filepath.Join(dir, "ca"))
	for _, e := range d.Manifest.Certificates {
		if e.Role != "cmg-server" {
			continue
		}
		if e.Files.PFX != "" && d.Manifest.PFXPasswordFile != "" {
			verifyCmd = "cmgpki verify cert " + shellWord(filepath.Join(dir, filepath.FromSlash(e.Files.PFX))) + " --roots " + shellWord(filepath.Join(dir, "ca")) +
				" --password-file " + shellWord(filepath.Join(dir, d.Manifest.PFXPasswordFile))
		} else {
			verifyCmd = "cmgpki verify cert " + shellWord(filepath.Join(dir, filepath.FromSlash(e.Files.Cert))) + " --roots " + shellWord(filepath.Join(dir, "ca"))
		}
		break
	}
	return []string{
		"cmgpki handshake --lab " + q + "    # the happy path step by step: component, result, detail",
		"cmgpki handshake --lab " + q + " --scenario crl-unreachable    # a failure: its step, Windows error and fix",
		"cmgpki handshake --lab " + q + " --scenario all --logs " + shellWord(filepath.Clean(dir)+"-logs") + "    # ccmsetup.log, CCM_STS.log ... of every scenario",
		"cmgpki serve --lab " + q + "    # serve CRLs and OCSP at " + baseURL + " (leave it running), then in another shell:",
		verifyCmd + "    # preflight one certificate as a Windows client would",
		"cmgpki handshake --lab " + q + " --cmg-cert YOUR-CMG.pfx --roots YOUR-ROOT.cer --password-file pw.txt    # your own certificates through the flow",
	}
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// The demo tables.
var demoPreflightColumns = []column{
	{Header: "CERTIFICATE", Priority: 1, Min: 12, Shrink: cutStart},
	{Header: "ROLE", Priority: 2},
	{Header: "EXPIRES", Priority: 5},
	{Header: "CHAIN", Priority: 3, Min: 10, Shrink: wrapWords},
	{Header: "REVOCATION", Priority: 2, Min: 12, Shrink: wrapWords},
	{Header: "FINDINGS", Priority: 1, Min: 20, Shrink: wrapWords},
}

// renderDemo writes the preflight table (and its findings) and the matrix.
func renderDemo(f *Factory, v *demoView) error {
	out := f.IO.Out
	where := v.RevocationServer
	if where != v.BaseURL {
		where += " in place of " + v.BaseURL
	}
	fmt.Fprintf(out, "Preflight of lab %s at %s: every certificate as its role, revocation online (%s)\n", v.Lab, v.At.Format(time.RFC3339), where)
	var rows [][]string
	var withFindings []subjectFindings
	for _, r := range v.Preflight.Reports {
		role, chain, rev, expires := "-", "-", "-", "-"
		if r.Profile != nil {
			role = r.Profile.Name
		}
		if r.Certificate != nil {
			expires = r.Certificate.NotAfter.Format("2006-01-02")
		}
		if c := r.Chain; c != nil {
			chain = "OK"
			if !c.Trusted {
				chain = "NOT TRUSTED"
			}
			if c.Status != 0 {
				var names []string
				for _, n := range c.Status.Names() {
					names = append(names, strings.TrimPrefix(n, "CERT_TRUST_"))
				}
				chain = strings.Join(names, " ")
			}
			if len(c.Elements) > 0 {
				rev = revocationText(c.Elements[0])
			}
		}
		file := r.Input.File
		if rel, err := filepath.Rel(v.Lab, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = filepath.ToSlash(rel) // the heading names the lab
		}
		rows = append(rows, []string{file, role, expires, chain, rev, demoCounts(r.Counts)})
		if len(r.Findings) > 0 {
			withFindings = append(withFindings, subjectFindings{Subject: filepath.Base(r.Input.File), Results: lintResults(r.Findings)})
		}
	}
	if err := renderTable(f, demoPreflightColumns, rows); err != nil {
		return err
	}
	if len(withFindings) > 0 {
		if err := renderTable(f, findingColumns, findingRows(withFindings)); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nHandshake scenario matrix (%s; step by step: cmgpki handshake --lab %s --scenario NAME)\n",
		plural(len(v.Handshake.Scenarios), "scenario", "scenarios"), shellWord(v.Lab))
	return renderHandshake(f, v.Handshake, true)
}

// demoCounts is "none", or the non-zero counts: "1 warning, 1 notice".
func demoCounts(c map[string]int) string {
	var parts []string
	for _, l := range []struct{ key, one, many string }{{"fatal", "incomplete", "incomplete"}, {"error", "error", "errors"}, {"warn", "warning", "warnings"}, {"notice", "notice", "notices"}} {
		if c[l.key] > 0 {
			parts = append(parts, plural(c[l.key], l.one, l.many))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
