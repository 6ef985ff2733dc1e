package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/profiles"
	"github.com/cmgpki/cmgpki/verify"
)

type verifyCertOptions struct {
	files        []string
	profile      string
	ekus         []string
	names        []string
	key          string
	passwordFile string
	maxDepth     int
	previous     string
	cmgTrusted   []string
	computer     string
	trust        trustFlags
	rev          revFlags
	report       reportFlags
}

func newVerifyCertCmd(f *Factory, runF func(*cobra.Command, *verifyCertOptions) error) *cobra.Command {
	o := &verifyCertOptions{}
	c := &cobra.Command{
		Use:   "cert FILE... [--profile NAME|auto|none] [--roots FILE|DIR] [flags]",
		Short: "judge certificate files as a ConfigMgr client on Windows would",
		Long: `Judge each FILE: build its chain to the roots you give (only those, as a
client's Trusted Root store; nothing from this machine unless --system-roots),
check every element at --at with revocation as a ConfigMgr client checks it
(OCSP, then the CDP over HTTP, Windows' timeouts; an unreachable CRL is a
failure, CRYPT_E_REVOCATION_OFFLINE), and the certificate against the
requirements of its role.

The certificate judged is the one of the private key (a PFX) or the first
certificate that is not a CA; the other certificates of the file are offered
as intermediates. A PFX is opened with --password-file or $CMGPKI_PFX_PASSWORD
(never a flag value; without either, exit 2). A PFX that the password does
not open (e_pfx_wrong_password) or that holds no private key
(e_pfx_no_private_key) is an error finding (exit 1), in a report with the
input only: there is no certificate to judge. A key that does not match (the
PFX's or --key) is an error finding, AES-only protection a warning (Server
2016 and older cannot import it).

--name is repeatable (or a comma list): the certificate must be valid for
every name, as a client connecting to each (a DNS SAN; the CN only without
DNS SANs, as Windows), and an MP certificate must carry each (its intranet
and internet FQDN). A name it is not valid for is one chain_name_mismatch
(CERT_E_CN_NO_MATCH).

--cmg-trusted checks the chain of a PKI client certificate (pki-client, or
--profile none with --eku clientAuth) against the root and intermediate
certificates uploaded to the CMG (F16); only PKI clients authenticate to the
CMG with a certificate. For another role a notice says so.

--at moves the evaluation time: certificates and the CRLs given with --crl
are judged at --at; OCSP and CDP answers fetched online are judged fresh at
the moment they are fetched, as a client judges the answer it just got (a
Note says so when --at is not now).

--profile auto (the default) infers the role and says why; the rules, tried
in order:
` + verify.AutoRules + `

--profile none checks only the chain, names, validity and revocation; add
--eku serverAuth, clientAuth or an OID (repeatable) to require those usages
through the whole chain, as a TLS server or client check would.

Arguments:
  FILE  PEM (one or many certificates), DER, PKCS#7 (.p7b) or PFX (.pfx)

` + verifyJSONHelp + "\n\n" + verifyExitCodes,
		Example: `  cmgpki verify cert cmg-lab/certs/mp-https.crt --roots cmg-lab/ca
  cmgpki verify cert cmg-lab/certs/cmg-server.pfx --roots cmg-lab/ca --password-file cmg-lab/pfx-password.txt
  cmgpki verify cert server.cer --profile none --eku serverAuth --name www.contoso.com --roots root.cer
  cmgpki verify cert cmg-lab/certs/client01.crt --roots cmg-lab/ca --key cmg-lab/certs/client01.key --no-crl-check
  cmgpki verify cert cmg-lab/certs/mp-https.crt --roots cmg-lab/ca --name mp.contoso.com --name mp01.corp.contoso.com
  # after "cmgpki crl --lab cmg-lab" (or while serve runs)
  cmgpki verify cert cmg-lab/certs/*.crt --roots cmg-lab/ca --crl cmg-lab/crl/issuing-ca.crl --output json
  cmgpki verify cert cmg-lab/certs/cmg-server.crt --previous cmg-lab/certs/cmg-server.cer --roots cmg-lab/ca
  cmgpki verify cert cmg-lab/certs/client01.crt --roots cmg-lab/ca --cmg-trusted cmg-lab/ca --computer client01`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &UsageError{Err: errors.New("verify cert: give at least one FILE"), ShowUsage: true}
			}
			return nil
		},
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(c *cobra.Command, args []string) error {
			o.files = args
			if runF != nil {
				return runF(c, o)
			}
			return runVerifyCert(c, f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.profile, "profile", "auto", "role to judge the certificate as: a profile name (cmgpki profiles list), auto or none")
	fl.StringSliceVar(&o.ekus, "eku", nil, "required usage through the chain: serverAuth, clientAuth or a dotted OID (repeatable)")
	fl.StringSliceVar(&o.names, "name", nil, "host name the certificate must be valid for (DNS SAN; the CN only without DNS SANs, as Windows); repeatable, each is checked")
	fl.StringVar(&o.key, "key", "", "private key file (PEM or DER PKCS#8/PKCS#1/EC) to check against the certificate")
	fl.StringVar(&o.passwordFile, "password-file", "", "password of a PFX or an encrypted key (or $CMGPKI_PFX_PASSWORD)")
	fl.IntVar(&o.maxDepth, "max-depth", verify.DefaultMaxDepth, "maximum number of certificates in a chain, leaf and root included")
	fl.StringVar(&o.previous, "previous", "", "the CMG certificate this one renews: the renewal rules compare the two (CN identical, letter case included)")
	fl.StringSliceVar(&o.cmgTrusted, "cmg-trusted", nil, "the trusted root and intermediate certificates uploaded to the CMG (files or a directory, repeatable): a PKI client certificate's chain must be covered (other roles: a notice)")
	fl.StringVar(&o.computer, "computer", "", "the client's computer name, which a PKI client certificate's Subject should contain (selection step 5)")
	o.trust.add(c)
	o.rev.add(c, true)
	o.report.add(c)
	o.report.addCMVersion(c)
	_ = c.RegisterFlagCompletionFunc("profile", choices(func() []string { return append(profileNames(), "auto", "none") }))
	_ = c.RegisterFlagCompletionFunc("eku", choices(func() []string { return []string{"serverAuth", "clientAuth"} }))
	for _, n := range []string{"key", "password-file", "crl"} {
		_ = c.RegisterFlagCompletionFunc(n, cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	}
	return c
}

func runVerifyCert(c *cobra.Command, f *Factory, o *verifyCertOptions) error {
	failOn, at, env, err := o.report.checkWithEnv(f)
	if err != nil {
		return err
	}
	if err := checkProfileFlag(o.profile); err != nil {
		return err
	}
	if o.maxDepth < 1 {
		return usageErr(fmt.Errorf("--max-depth %d: at least 1", o.maxDepth))
	}
	co := verify.ChainOptions{At: at, MaxDepth: o.maxDepth}
	for _, e := range o.ekus {
		u, err := verify.ParseUsage(e)
		if err != nil {
			return usageErr(fmt.Errorf("--eku %q: want serverAuth, clientAuth or a dotted OID", e))
		}
		co.Usages = append(co.Usages, u)
	}
	pw, err := f.secret("--password-file", o.passwordFile, "CMGPKI_PFX_PASSWORD")
	if err != nil {
		return err
	}
	// Every input is read before anything is checked: an unreadable one
	// is exit 2 with nothing printed. A PFX that the password does not open
	// or that holds no key is a finding, not an unreadable input.
	inputs := make([]verify.CertInput, 0, len(o.files))
	var unopened []*verify.InputSubject
	for _, file := range o.files {
		in, s, err := readCertInput(f, file, pw, o.passwordFile)
		if err != nil {
			return err
		}
		inputs, unopened = append(inputs, in), append(unopened, s)
	}
	if o.key != "" {
		if len(inputs) != 1 {
			return usageErr(fmt.Errorf("--key %s: give exactly one FILE with --key (got %d)", o.key, len(inputs)))
		}
		key, err := certio.ReadKey(o.key, pw)
		if err != nil {
			return usageErr(fmt.Errorf("--key: %w", err))
		}
		inputs[0].Key, inputs[0].KeyFile = key, o.key
	}
	if co.Roots, co.Intermediates, err = o.trust.load(f); err != nil {
		return err
	}
	if err := o.rev.options(c.Context(), f, c, &co); err != nil {
		return err
	}
	if co.Revocation == verify.RevocationOff {
		f.notef("%s", verify.NoticeRevocationOff.Message)
	}
	certOpts := verify.CertOptions{ChainOptions: co, Profile: o.profile, Env: env, ComputerName: o.computer}
	for _, n := range o.names {
		if n = strings.TrimSpace(n); n == "" {
			return usageErr(errors.New("--name: an empty host name"))
		}
		certOpts.ExpectedNames = append(certOpts.ExpectedNames, n)
	}
	if o.previous != "" {
		prev, err := readCertSources("--previous", []string{o.previous})
		if err != nil {
			return err
		}
		if len(prev) == 0 {
			return usageErr(fmt.Errorf("--previous %s: no certificate found", o.previous))
		}
		certOpts.Previous = prev[0]
	}
	if len(o.cmgTrusted) > 0 {
		if certOpts.CMGTrusted, err = readCertSources("--cmg-trusted", o.cmgTrusted); err != nil {
			return err
		}
		if len(certOpts.CMGTrusted) == 0 {
			return usageErr(fmt.Errorf("--cmg-trusted %s: no certificate found", strings.Join(o.cmgTrusted, ",")))
		}
	}
	var reports []*verify.Report
	for i, in := range inputs {
		var rep *verify.Report
		var err error
		if s := unopened[i]; s != nil {
			rep, err = verify.CheckUnopenedInput(*s, at, env)
		} else {
			rep, err = verify.CheckCertificate(c.Context(), in, certOpts)
		}
		if err != nil {
			return fmt.Errorf("verify cert %s: %w", o.files[i], err)
		}
		rep.Input.File = o.files[i]
		reports = append(reports, rep)
	}
	return emitReports(f, "cert", reports, o.report.output, failOn)
}

// checkProfileFlag accepts a profile name, auto or none.
func checkProfileFlag(p string) error {
	switch strings.ToLower(p) {
	case "auto", "none", "":
		return nil
	}
	if _, err := profiles.Get(p); err != nil {
		return usageErr(fmt.Errorf("--profile: %w (or auto, none)", err))
	}
	return nil
}

// readCertInput reads one FILE of verify cert (verify.ReadInput). A PFX
// that the password does not open, or that holds no private key, is not
// an error: it comes back as the subject of the input rules (the second
// result), and the CertInput has no bundle. A PFX with no password given,
// and any file that cannot be read or holds no certificate, is a usage
// error (exit 2).
func readCertInput(f *Factory, file string, pw []byte, pwFile string) (verify.CertInput, *verify.InputSubject, error) {
	s, err := verify.ReadInput(file, pw)
	switch {
	case err != nil && errors.Is(err, certio.ErrWrongPassword) || s.Err != nil && pw == nil && errors.Is(s.Err, certio.ErrWrongPassword):
		// No password given: the command lacks an input.
		_, err := readInputBundle(f, file, pw, pwFile)
		return verify.CertInput{}, nil, err
	case err != nil:
		return verify.CertInput{}, nil, usageErr(fmt.Errorf("FILE %s: %w", file, err))
	case s.Err != nil:
		s.Name = file
		if errors.Is(s.Err, certio.ErrWrongPassword) {
			s.Err = fmt.Errorf("the password from %s does not open it (%w)", f.secretSource("--password-file", pwFile, "CMGPKI_PFX_PASSWORD"), certio.ErrWrongPassword)
		}
		return verify.CertInput{}, &s, nil
	case len(s.Bundle.Certs) == 0:
		// Holds only CRLs: the error says what the file holds.
		_, err := readInputBundle(f, file, pw, pwFile)
		return verify.CertInput{}, nil, err
	}
	s.Bundle.Name = file
	return verify.CertInput{Bundle: s.Bundle}, nil, nil
}

// readInputBundle reads one certificate file; a PFX needs the password
// from --password-file or $CMGPKI_PFX_PASSWORD.
func readInputBundle(f *Factory, file string, pw []byte, pwFile string) (*certio.Bundle, error) {
	b, err := certio.ReadCertificates(file, certio.ReadOptions{Password: pw})
	if err != nil {
		if errors.Is(err, certio.ErrWrongPassword) {
			from := f.secretSource("--password-file", pwFile, "CMGPKI_PFX_PASSWORD")
			if pw == nil {
				return nil, usageErr(fmt.Errorf("%s: the PFX needs a password: give --password-file FILE or set CMGPKI_PFX_PASSWORD (%w)", file, err))
			}
			return nil, usageErr(fmt.Errorf("%s: the password from %s does not open it (%w)", file, from, err))
		}
		return nil, usageErr(fmt.Errorf("FILE %s: %w", file, err))
	}
	b.Name = file
	return b, nil
}
