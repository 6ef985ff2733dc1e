package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/verify"
)

type verifySelectionOptions struct {
	inputs                      []string
	issuers, criteria, computer string
	passwordFile                string
	crls                        []string
	failOnMultiple              bool
	trust                       trustFlags
	report                      reportFlags
}

// selectionExts are the files read from a directory of candidates.
var selectionExts = map[string]bool{".pfx": true, ".p12": true, ".crt": true, ".cer": true, ".pem": true, ".der": true, ".p7b": true}

func newVerifySelectionCmd(f *Factory, runF func(*cobra.Command, *verifySelectionOptions) error) *cobra.Command {
	o := &verifySelectionOptions{}
	c := &cobra.Command{
		Use:   "client-selection FILES|DIR [--issuers 'CN=...|CN=...'] [--criteria 'SubjectStr:...'] [--computer NAME]",
		Short: "show which client certificate a ConfigMgr client would select, and why the others are excluded",
		Long: `Apply the ConfigMgr client certificate selection order to the candidate
certificates, as a client does with the certificates of its Personal store:
  1 issuers      chains to a root in the certificate issuers list (--issuers,
                 CCMCERTISSUERS), or to any trusted root without a list
  2 store        in the configured store (every file given counts as in it)
  3 valid        valid at --at, not revoked (with --crl), private key present
  4 client_auth  clientAuth EKU and the digitalSignature key usage
  5 subject      the computer name in the subject (--computer), or the
                 alternate criteria (--criteria, CCMCERTSEL)
  6 multiple     the longest validity period, or none with --fail-on-multiple
A table shows every candidate: selected, or the step that excluded it with
what was observed and what was expected. No selected certificate is an error
finding.

A directory is read as a client's store: its .pfx .p12 .crt .cer .pem .der
.p7b files, the same certificate in several files counted once (the file
with its private key wins), and NAME.key next to NAME.crt taken as its key.

Revocation: offline only. With --crl the candidates' chains are checked
against those CRLs (a certificate without a usable CRL is excluded at step
3, as on a client that cannot fetch it); without, revocation is not checked
and a notice says so.

Arguments:
  FILES|DIR  certificate files (PFX with key, PEM/DER certificates) or one
             directory of them

` + verifyJSONHelp + "\n\n" + verifyExitCodes,
		Example: `  cmgpki verify client-selection cmg-lab/certs --roots cmg-lab/ca --computer client01
  # after "cmgpki crl --lab cmg-lab" (or while serve runs)
  cmgpki verify client-selection cmg-lab/certs --roots cmg-lab/ca --computer client01 --crl cmg-lab/crl/issuing-ca.crl --crl cmg-lab/crl/root-ca.crl
  cmgpki verify client-selection a.pfx b.pfx --password-file pw.txt --roots root.cer --criteria 'SubjectStr:client01'
  cmgpki verify client-selection cmg-lab/certs --roots cmg-lab/ca --issuers 'CN=contoso.com Lab Root CA' --computer client01 --output json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &UsageError{Err: errors.New("verify client-selection: give certificate FILES or a DIR"), ShowUsage: true}
			}
			return nil
		},
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(c *cobra.Command, args []string) error {
			o.inputs = args
			if runF != nil {
				return runF(c, o)
			}
			return runVerifySelection(c, f, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.issuers, "issuers", "", "certificate issuers list (CCMCERTISSUERS): root subjects separated by |")
	fl.StringVar(&o.criteria, "criteria", "", "alternate selection criteria (CCMCERTSEL): SubjectStr:TEXT, Subject:TEXT or SubjectAttr:OID = VALUE")
	fl.StringVar(&o.computer, "computer", "", "the client's computer name (needed without --criteria)")
	fl.StringVar(&o.passwordFile, "password-file", "", "password of the PFX files (or $CMGPKI_PFX_PASSWORD)")
	fl.StringSliceVar(&o.crls, "crl", nil, "CRL file (PEM or DER) the client holds (repeatable); enables revocation checking")
	fl.BoolVar(&o.failOnMultiple, "fail-on-multiple", false, "the site's action for several matching certificates is FailSelectionAndSendErrorMessage (default: the longest validity)")
	o.trust.add(c)
	o.report.add(c)
	for _, n := range []string{"password-file", "crl"} {
		_ = c.RegisterFlagCompletionFunc(n, cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	}
	return c
}

func runVerifySelection(c *cobra.Command, f *Factory, o *verifySelectionOptions) error {
	failOn, at, err := o.report.check(f)
	if err != nil {
		return err
	}
	so := verify.SelectionOptions{At: at, ComputerName: o.computer}
	if so.Criteria, err = verify.ParseSelectionCriteria(o.criteria); err != nil {
		return usageErr(fmt.Errorf("--criteria: %w", err))
	}
	if so.Issuers, err = verify.ParseCertificateIssuers(o.issuers); err != nil {
		return usageErr(fmt.Errorf("--issuers: %w", err))
	}
	if o.criteria == "" && o.computer == "" {
		return &UsageError{Err: errors.New("give --computer NAME (the default criteria look for the computer name in the subject) or --criteria"), ShowUsage: true}
	}
	if o.failOnMultiple {
		so.OnMultiple = verify.FailOnMultiple
	}
	pw, err := f.secret("--password-file", o.passwordFile, "CMGPKI_PFX_PASSWORD")
	if err != nil {
		return err
	}
	cands, err := readCandidates(f, o.inputs, pw, o.passwordFile)
	if err != nil {
		return err
	}
	if so.Roots, so.Intermediates, err = o.trust.load(f); err != nil {
		return err
	}
	if so.CRLs, err = readCRLSources(c.Context(), o.crls); err != nil {
		return err
	}
	if len(o.crls) > 0 {
		so.Revocation = verify.RevocationChainExcludeRoot
	} else {
		f.notef("revocation not checked (give --crl FILE to check it as a client holding that CRL)")
	}
	rep := verify.SelectionReport(cands, so)
	return emitReports(f, "client-selection", []*verify.Report{rep}, o.report.output, failOn)
}

// readCandidates reads FILES, or one DIR as a store: certificates counted
// once by thumbprint (the one with its key wins), NAME.key beside NAME.crt
// taken as its key. A PFX that needs a password no one gave is skipped in
// a directory (with a Note) when the same certificate is there without it.
func readCandidates(f *Factory, inputs []string, pw []byte, pwFile string) ([]verify.Candidate, error) {
	var files []string
	dir := false
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil {
			return nil, usageErr(fmt.Errorf("FILES %s: %w", in, errors.Unwrap(err)))
		}
		if fi.IsDir() {
			dir = true
			fs, err := expandDir("DIR", in, selectionExts)
			if err != nil {
				return nil, err
			}
			// The file with the key first: a PFX, then a certificate
			// with NAME.key beside it, in this order of extensions.
			rank := map[string]int{".pfx": 0, ".p12": 1, ".crt": 2, ".pem": 3, ".cer": 4, ".der": 5, ".p7b": 6}
			sort.SliceStable(fs, func(i, j int) bool {
				return rank[strings.ToLower(filepath.Ext(fs[i]))] < rank[strings.ToLower(filepath.Ext(fs[j]))]
			})
			files = append(files, fs...)
		} else {
			files = append(files, in)
		}
	}
	var out []verify.Candidate
	index := map[string]int{} // thumbprint -> position in out
	skipped := 0
	for _, file := range files {
		b, err := certio.ReadCertificates(file, certio.ReadOptions{Password: pw})
		if err != nil {
			if dir && pw == nil && errors.Is(err, certio.ErrWrongPassword) {
				skipped++
				continue
			}
			if errors.Is(err, certio.ErrWrongPassword) {
				_, err = readInputBundle(f, file, pw, pwFile)
				return nil, err
			}
			return nil, usageErr(fmt.Errorf("FILES %s: %w", file, err))
		}
		if b.Key == nil && b.Format != certio.FormatPKCS12 {
			keyFile := strings.TrimSuffix(file, filepath.Ext(file)) + ".key"
			if strings.HasSuffix(file, ".chain.pem") {
				keyFile = strings.TrimSuffix(file, ".chain.pem") + ".key"
			}
			if _, err := os.Stat(keyFile); err == nil {
				if k, err := certio.ReadKey(keyFile, pw); err == nil {
					b.Key = k
				}
			}
		}
		cand := verify.CandidateFromBundle(b)
		cand.Name = file
		if cand.Cert == nil {
			continue
		}
		if dir && cand.Cert.IsCA {
			continue // a CA certificate is not a client's candidate
		}
		tp := certio.SHA1Thumbprint(cand.Cert)
		if i, ok := index[tp]; ok {
			if cand.HasKey && !out[i].HasKey {
				out[i] = cand
			}
			continue
		}
		index[tp] = len(out)
		out = append(out, cand)
	}
	if skipped > 0 {
		f.notef("%d PFX file(s) skipped: they need a password (give --password-file or set CMGPKI_PFX_PASSWORD)", skipped)
	}
	if len(out) == 0 {
		return nil, usageErr(fmt.Errorf("FILES|DIR %s: no candidate certificate found", strings.Join(inputs, " ")))
	}
	return out, nil
}
