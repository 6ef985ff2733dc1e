package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/verify"
)

type verifyCRLOptions struct {
	source, issuer string
	report         reportFlags
}

func newVerifyCRLCmd(f *Factory, runF func(*cobra.Command, *verifyCRLOptions) error) *cobra.Command {
	o := &verifyCRLOptions{}
	c := &cobra.Command{
		Use:   "crl FILE|URL --issuer FILE [--at TIME]",
		Short: "check a CRL on its own, as the CRL a Windows client would fetch",
		Long: `Check a CRL as a Windows client would use it for the certificates of --issuer:
it parses, is signed by the issuing CA itself (CryptoAPI refuses CRLs signed by
a separate CRL-signing certificate), names that CA, is current at --at
(thisUpdate, nextUpdate; a warning when it expires soon), has a CRL number,
an issuing distribution point a client accepts, and entries in order without
duplicates. A CRL a client cannot use is reported with the error it logs,
CRYPT_E_REVOCATION_OFFLINE.

Arguments:
  FILE|URL  a CRL file (DER or PEM), or an http:// URL (fetched with Windows'
            15 s timeout and 10 MiB limit)

` + verifyJSONHelp + "\n\n" + verifyExitCodes,
		Example: `  # after "cmgpki crl --lab cmg-lab" (or while serve runs)
  cmgpki verify crl cmg-lab/crl/issuing-ca.crl --issuer cmg-lab/ca/issuing-ca.crt
  cmgpki verify crl http://127.0.0.1:8080/crl/issuing-ca.crl --issuer cmg-lab/ca/issuing-ca.crt
  cmgpki verify crl cmg-lab/crl/root-ca.crl --issuer cmg-lab/ca/root-ca.crt --output json`,
		Args: exactArgs(1, "FILE|URL"),
		RunE: func(c *cobra.Command, args []string) error {
			o.source = args[0]
			if runF != nil {
				return runF(c, o)
			}
			return runVerifyCRL(c, f, o)
		},
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
	}
	c.Flags().StringVar(&o.issuer, "issuer", "", "the issuing CA's certificate (required)")
	_ = c.RegisterFlagCompletionFunc("issuer", cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	o.report.add(c)
	return c
}

func runVerifyCRL(c *cobra.Command, f *Factory, o *verifyCRLOptions) error {
	failOn, at, err := o.report.check(f)
	if err != nil {
		return err
	}
	if o.issuer == "" {
		return &UsageError{Err: errors.New("--issuer is required (the CA certificate that signs the CRL)"), ShowUsage: true}
	}
	ib, err := certio.ReadCertificates(o.issuer, certio.ReadOptions{})
	if err != nil {
		return usageErr(fmt.Errorf("--issuer: %w", err))
	}
	issuer := ib.Certs[0]
	for _, ic := range ib.Certs {
		if ic.IsCA {
			issuer = ic
			break
		}
	}
	isURL := strings.HasPrefix(o.source, "http://") || strings.HasPrefix(o.source, "https://")
	var der []byte
	if isURL {
		if der, err = fetchCRL(c.Context(), o.source); err != nil {
			return err
		}
	} else {
		data, err := os.ReadFile(o.source)
		if err != nil {
			return usageErr(fmt.Errorf("FILE %s: %w", o.source, err))
		}
		der = data
	}
	if der, err = crlDER(o.source, der); err != nil {
		return usageErr(err)
	}
	rep := verify.CRLCheckReport(der, issuer, at, o.source, isURL)
	return emitReports(f, "crl", []*verify.Report{rep}, o.report.output, failOn)
}

// crlDER returns the DER of a CRL given as DER or PEM; other content is
// passed on as is for CheckCRL to report (crl_malformed).
func crlDER(name string, data []byte) ([]byte, error) {
	if _, err := x509.ParseRevocationList(data); err == nil {
		return data, nil
	}
	b, err := certio.ParseBundle(name, data, certio.ReadOptions{})
	if err == nil && len(b.CRLs) > 0 {
		return b.CRLs[0].Raw, nil
	}
	if err == nil && len(b.Certs) > 0 {
		return nil, fmt.Errorf("FILE %s: holds certificates, not a CRL", name)
	}
	return data, nil
}
