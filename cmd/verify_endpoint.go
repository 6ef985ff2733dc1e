package cmd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/verify"
)

type verifyEndpointOptions struct {
	url, connect, clientCert, passwordFile, profile string
	timeout                                         time.Duration
	trust                                           trustFlags
	rev                                             revFlags
	report                                          reportFlags
}

func newVerifyEndpointCmd(f *Factory, runF func(*cobra.Command, *verifyEndpointOptions) error) *cobra.Command {
	o := &verifyEndpointOptions{}
	c := &cobra.Command{
		Use:   "endpoint https://HOST[:PORT] [--connect IP:PORT] [--roots FILE|DIR] [flags]",
		Short: "connect to a TLS server and judge what it presents as a ConfigMgr client would",
		Long: `Run a real TLS handshake (TLS 1.2 minimum, SNI from the URL) with the server
and judge the chain it presents as a Windows client would: trust to the roots
you give, the name of the URL, serverAuth through the chain, revocation
(OCSP, then the CDP, as a ConfigMgr client), and intermediates the server
does not send (a client without them fails with CERT_E_CHAINING). The
presented certificate is then checked against the requirements of its server
role: --profile auto (the default) chooses cmg-server or mp-https by the
certificate (a wildcard name, or one DNS name that is a valid CMG service
name: cmg-server; otherwise mp-https) and says why.

--connect dials IP:PORT instead of the URL's host, keeping the URL's name for
SNI and the name check: test a server before DNS points at it.

Arguments:
  https://HOST[:PORT]  the name clients use; the port defaults to 443

` + verifyJSONHelp + "\n\n" + verifyExitCodes,
		Example: `  cmgpki verify endpoint https://cmg.contoso.com --roots root.cer
  cmgpki verify endpoint https://mp.contoso.com --connect 10.0.0.5:443 --roots cmg-lab/ca
  cmgpki verify endpoint https://mp.contoso.com:8443 --roots cmg-lab/ca --client-cert cmg-lab/certs/client01.pfx --password-file cmg-lab/pfx-password.txt
  cmgpki verify endpoint https://cmg.contoso.com --roots cmg-lab/ca --no-crl-check --output json`,
		Args: exactArgs(1, "https://HOST[:PORT]"),
		RunE: func(c *cobra.Command, args []string) error {
			o.url = args[0]
			if runF != nil {
				return runF(c, o)
			}
			return runVerifyEndpoint(c, f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.connect, "connect", "", "dial IP:PORT instead of the URL's host (SNI and the name check keep the URL's name)")
	fl.StringVar(&o.clientCert, "client-cert", "", "client certificate to send when the server asks: a PFX, or PEM with its key")
	fl.StringVar(&o.passwordFile, "password-file", "", "password of the --client-cert PFX (or $CMGPKI_PFX_PASSWORD)")
	fl.StringVar(&o.profile, "profile", "auto", "server role: cmg-server, mp-https, auto or none")
	fl.DurationVar(&o.timeout, "timeout", verify.DefaultEndpointTimeout, "bound on the TCP connect and the TLS handshake")
	o.trust.add(c)
	o.rev.add(c, true)
	o.report.add(c)
	o.report.addCMVersion(c)
	_ = c.RegisterFlagCompletionFunc("profile", choices(func() []string { return []string{"auto", "cmg-server", "mp-https", "none"} }))
	for _, n := range []string{"client-cert", "password-file", "crl"} {
		_ = c.RegisterFlagCompletionFunc(n, cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	}
	return c
}

func runVerifyEndpoint(c *cobra.Command, f *Factory, o *verifyEndpointOptions) error {
	failOn, at, env, err := o.report.checkWithEnv(f)
	if err != nil {
		return err
	}
	switch strings.ToLower(o.profile) {
	case "auto", "none", "cmg-server", "mp-https":
	default:
		return usageErr(fmt.Errorf("--profile %q: want cmg-server, mp-https, auto or none (an endpoint presents a server certificate)", o.profile))
	}
	if !strings.HasPrefix(o.url, "https://") {
		return &UsageError{Err: fmt.Errorf("URL argument %q: want https://HOST[:PORT]", o.url), ShowUsage: true}
	}
	if o.connect != "" {
		if _, _, err := net.SplitHostPort(o.connect); err != nil {
			return usageErr(fmt.Errorf("--connect %q: want IP:PORT (%v)", o.connect, err))
		}
	}
	if o.timeout <= 0 {
		return usageErr(fmt.Errorf("--timeout %s: must be positive", o.timeout))
	}
	eo := verify.EndpointOptions{URL: o.url, Connect: o.connect, Timeout: o.timeout}
	eo.At = at
	if o.clientCert != "" {
		pw, err := f.secret("--password-file", o.passwordFile, "CMGPKI_PFX_PASSWORD")
		if err != nil {
			return err
		}
		b, err := readInputBundle(f, o.clientCert, pw, o.passwordFile)
		if err != nil {
			return err
		}
		if b.Key == nil {
			return usageErr(fmt.Errorf("--client-cert %s: no private key in the file (give a PFX, or PEM with the key)", o.clientCert))
		}
		cand := verify.CandidateFromBundle(b)
		tc := &tls.Certificate{PrivateKey: b.Key, Leaf: cand.Cert, Certificate: [][]byte{cand.Cert.Raw}}
		for _, ic := range cand.Intermediates {
			tc.Certificate = append(tc.Certificate, ic.Raw)
		}
		eo.ClientCert = tc
	}
	if eo.Roots, eo.Intermediates, err = o.trust.load(f); err != nil {
		return err
	}
	if err := o.rev.options(c.Context(), f, c, &eo.ChainOptions); err != nil {
		return err
	}
	if eo.Revocation == verify.RevocationOff {
		f.notef("%s", verify.NoticeRevocationOff.Message)
	}
	rep, err := verify.CheckEndpoint(c.Context(), verify.EndpointCheckOptions{EndpointOptions: eo, Profile: o.profile, Env: env})
	var ee *verify.EndpointError
	switch {
	case rep == nil:
		return fmt.Errorf("verify endpoint %s: %w", o.url, err)
	case errors.As(err, &ee) && ee.Stage == "connect":
		// Nothing to judge: the check could not run (exit 3), but the
		// report says why.
		if eerr := emitReports(f, "endpoint", []*verify.Report{rep}, o.report.output, failOn); eerr != nil && !errors.As(eerr, new(*FindingsError)) {
			return eerr
		}
		return fmt.Errorf("verify endpoint: %w", ee)
	}
	return emitReports(f, "endpoint", []*verify.Report{rep}, o.report.output, failOn)
}
