package cmd

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

type issueOptions struct {
	profile, lab, name, cn, keyType, issuer, pfxFormat string
	sans                                               []string
	validity                                           time.Duration
	notBefore, template                                string
	pfxPasswordFile, keyPasswordFile                   string
	force                                              bool
	output, store                                      string
}

func newIssueCmd(f *Factory, runF func(*issueOptions) error) *cobra.Command {
	o := &issueOptions{}
	c := &cobra.Command{
		Use:   "issue PROFILE --lab DIR --name NAME [--cn CN] [--san FQDN]...",
		Short: "issue one role certificate from an existing lab's CA",
		Long: `Issue one certificate of role PROFILE (see "cmgpki profiles list") from a
lab directory made by "lab create" or "ca init", and add it to the manifest.
The certificate is linted against its profile before it is signed: what
the profile forbids is refused (exit 2); its notices and warnings are
printed on stderr as "Note:" and "Warning:" lines and listed under
"findings" in the JSON output and the manifest entry.

Arguments:
  PROFILE  cmg-server, mp-https, cmg-connection-point, pki-client, wpj-device or ocsp-signer

` + exitCodesHelp(runCodes...),
		Example: `  cmgpki issue pki-client --lab cmg-lab --name client02 --cn client02.contoso.com
  cmgpki issue mp-https --lab cmg-lab --name dp01 --cn dp01.contoso.com --san dp01.contoso.com --san dp01.corp.contoso.com
  cmgpki issue cmg-server --lab cmg-lab --name cmg2 --cn cmg2.contoso.com --key-type rsa4096
  cmgpki issue wpj-device --lab cmg-lab --name device09
  cmgpki issue ocsp-signer --lab cmg-lab --name ocsp-issuing --cn "Lab OCSP Responder"`,
		Args: exactArgs(1, "PROFILE"),
		RunE: func(c *cobra.Command, args []string) error {
			o.profile = args[0]
			if runF != nil {
				return runF(o)
			}
			return runIssue(c, f, o)
		},
	}
	c.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return choices(issuableProfiles)(c, args, toComplete)
	}
	fl := c.Flags()
	fl.StringVar(&o.lab, "lab", "", "lab directory (required)")
	fl.StringVar(&o.name, "name", "", "name of the certificate in the lab (file names); required")
	fl.StringVar(&o.cn, "cn", "", "subject CN (an FQDN for server and client roles; a GUID or empty for wpj-device)")
	fl.StringSliceVar(&o.sans, "san", nil, "SAN dNSName, an FQDN (repeatable; default the CN); IP addresses are refused")
	fl.StringVar(&o.keyType, "key-type", "", "rsa2048 (default), rsa3072, rsa4096, p256, p384, where the profile allows it")
	fl.StringVar(&o.issuer, "issuer", "", "CA that signs (default issuing-ca, or root-ca without one; wpj-ca for devices)")
	fl.DurationVar(&o.validity, "validity", 0, "lifetime, e.g. 8760h (default the profile's); must end before the issuer's notAfter")
	fl.StringVar(&o.notBefore, "not-before", "", "notBefore, RFC 3339 (default now less 10 minutes)")
	fl.StringVar(&o.pfxFormat, "pfx-format", "", "legacy or modern (default the profile's)")
	fl.StringVar(&o.pfxPasswordFile, "pfx-password-file", "", "PFX password file (or $CMGPKI_PFX_PASSWORD) for a lab made with your own password; a lab with pfx-password.txt uses that one")
	fl.StringVar(&o.keyPasswordFile, "key-password-file", "", "password of encrypted lab keys, also used for the new key (or $CMGPKI_KEY_PASSWORD)")
	fl.StringVar(&o.template, "template", "", "x509util template file applied on top of the profile")
	fl.StringVar(&o.store, "store", "", "revocation store that records the new certificate: sqlite:PATH or postgres://... (default $CMGPKI_STORE, else DIR/revocation.db when it exists)")
	fl.BoolVar(&o.force, "force", false, "replace a certificate of the same name (the old one is not revoked: it stays in the manifest's replaced list, revocable)")
	addOutputFlag(c, &o.output)
	_ = c.RegisterFlagCompletionFunc("key-type", issueKeyTypes)
	return c
}

func runIssue(c *cobra.Command, f *Factory, o *issueOptions) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	if o.lab == "" {
		return &UsageError{Err: fmt.Errorf("--lab is required"), ShowUsage: true}
	}
	if o.name == "" {
		return &UsageError{Err: fmt.Errorf("--name is required"), ShowUsage: true}
	}
	if p, err := profiles.Get(o.profile); err != nil || p.IsCA {
		why := fmt.Sprintf("unknown profile %q", o.profile)
		if err == nil {
			why = fmt.Sprintf("%s is a CA profile; the lab's CAs are made by \"lab create\" or \"ca init\"", p.Role)
		}
		return usageErr(fmt.Errorf("PROFILE argument: %s (want one of %s)", why, strings.Join(issuableProfiles(), ", ")))
	}
	if c.Flags().Changed("validity") && o.validity == 0 {
		return usageErr(fmt.Errorf("--validity 0s: the validity must be positive, such as 8760h (leave --validity out for the profile's)"))
	}
	opts := ca.IssueOptions{Issuer: o.issuer, Force: o.force, Clock: f.Clock, Rand: f.Rand,
		Notes: func(n string) { f.notef("%s", n) }}
	if o.notBefore != "" {
		t, err := time.Parse(time.RFC3339, o.notBefore)
		if err != nil {
			return usageErr(fmt.Errorf("--not-before: %q is not an RFC 3339 time", o.notBefore))
		}
		opts.NotBefore = t
	}
	pw, err := f.secret("--pfx-password-file", o.pfxPasswordFile, "CMGPKI_PFX_PASSWORD")
	if err != nil {
		return err
	}
	opts.PFXPassword = string(pw)
	opts.PFXPasswordFrom = f.secretSource("--pfx-password-file", o.pfxPasswordFile, "CMGPKI_PFX_PASSWORD")
	if opts.KeyPassword, err = f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD"); err != nil {
		return err
	}
	if o.template != "" {
		b, err := os.ReadFile(o.template)
		if err != nil {
			return usageErr(fmt.Errorf("--template: %w", err))
		}
		opts.Template = string(b)
	}
	l, err := ca.OpenLab(o.lab, opts.KeyPassword)
	if err != nil {
		return labLoadErr(o.lab, f.secretSource("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD"), err)
	}
	var old *lab.Entry
	if e, ok := l.Manifest.Find(o.name); ok {
		cp := *e
		old = &cp
	}
	if opts.Recorder, err = recorderFor(f, o.store, o.lab); err != nil {
		return err
	}
	e, err := l.Issue(c.Context(), ca.CertSpec{Name: o.name, Profile: o.profile, CN: o.cn, SANs: o.sans,
		KeyType: o.keyType, Validity: o.validity, PFXFormat: o.pfxFormat}, opts)
	if err != nil {
		return withTemplateFile(err, o.template)
	}
	if old != nil {
		// Not revoked here: the old certificate may be in use (uploaded to
		// the CMG, bound in IIS) until its replacement is deployed, and a
		// revocation is final.
		f.notef("the certificate it replaces (serial %s) stays valid until %s; revoke it with: cmgpki revoke --lab %s --serial %s --reason superseded",
			old.Serial, old.NotAfter, o.lab, old.Serial)
	}
	if na, err := time.Parse(time.RFC3339, e.NotAfter); err == nil && !na.After(f.Clock.Now()) {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s expired at %s, before now (%s): no client accepts it; fine for a test fixture\n",
			e.Name, e.NotAfter, f.Clock.Now().UTC().Format(time.RFC3339))
	}
	printFindings(f, e.Name, e.Findings)
	if o.output == "json" {
		findings := e.Findings
		if findings == nil {
			findings = []lint.Result{}
		}
		return renderJSON(f.IO.Out, map[string]any{"schema": "cmgpki/issue/v1", "certificate": e, "findings": findings})
	}
	if err := renderEntries(f, []lab.Entry{*e}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Issued %s certificate %s -> %s (expires %s)\n", e.Role, e.Subject, l.AbsPath(e.Files.Cert), e.NotAfter)
	return nil
}
