// Package cmd is the cobra command tree of cmgpki: flags, help, rendering
// and exit codes. Domain logic lives in ca, crl, profiles and lint.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs cmgpki with args and returns the exit code.
func Main(args []string) ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, defaultFactory(), args)
}

func run(ctx context.Context, f *Factory, args []string) ExitCode {
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	if err := checkSubcommand(root, args); err != nil {
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
		return ExitUsage
	}
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCodeFor(err)
	if err != nil {
		// cobra's own argument errors ("unknown command") are usage errors too.
		if errors.As(err, new(*flagError)) || strings.HasPrefix(err.Error(), "unknown command") {
			code = ExitUsage
		}
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n", err)
		var ue *UsageError
		if (errors.As(err, &ue) && ue.ShowUsage) || errors.As(err, new(*flagError)) {
			fmt.Fprintf(f.IO.ErrOut, "\n%s", cmd.UsageString())
		}
	}
	return code
}

type flagError struct{ error }

func (e *flagError) Unwrap() error { return e.error }

func newRootCmd(f *Factory) *cobra.Command {
	cobra.MousetrapHelpText = ""
	root := &cobra.Command{
		Use:   "cmgpki",
		Short: "build and check the PKI behind a Configuration Manager cloud management gateway",
		Long: `cmgpki builds a lab PKI for a Configuration Manager Cloud Management Gateway (CMG)
from role profiles, publishes its revocation data, and judges any certificate,
chain, CRL or endpoint as a ConfigMgr client on Windows would.

Common tasks:
  cmgpki demo                              start here: a lab, its revocation served, every
                                           certificate preflighted and the handshake scenarios run
  cmgpki lab create --out cmg-lab          make a complete default lab (contoso.com)
  cmgpki serve --lab cmg-lab               serve CRLs, CA certificates and OCSP on 127.0.0.1:8080
  cmgpki verify cert cmg.pfx --roots root.cer --password-file pw.txt
                                           preflight a certificate as a Windows client would
  cmgpki verify endpoint https://mp.contoso.com --roots root.cer
  cmgpki issue pki-client --lab cmg-lab --name client02 --cn client02.contoso.com
  cmgpki revoke --lab cmg-lab --cert cmg-lab/certs/client01.crt --reason keyCompromise

` + exitCodesHelp(runCodes...),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       currentVersion().String(),
	}
	root.SetVersionTemplate("cmgpki {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(newLabCmd(f), newCACmd(f), newIssueCmd(f, nil), newProfilesCmd(f), newRulesCmd(f, nil), newVersionCmd(f), newVerifyCmd(f))
	root.AddCommand(newHandshakeCmd(f), newDemoCmd(f, nil))
	root.AddCommand(newDiagnoseCmd(f, nil))
	addRevocationCmds(root, f)
	addWideFlags(root, f)
	registerCompletions(root, f)
	return root
}
