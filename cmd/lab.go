package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/lab"
)

// labFlags are the flags lab create and ca init share.
type labFlags struct {
	out, spec, domain, baseURL, keyType, caKeyType, pfxFormat string
	cmgName, mpName, cpName                                   string
	mpSANs                                                    []string
	clients, devices                                          int
	noIssuing, noWPJ, force, reproducible                     bool
	keysDir, notBefore, template                              string
	pfxPasswordFile, keyPasswordFile                          string
	output                                                    string
}

func (o *labFlags) register(c *cobra.Command, full bool) {
	fl := c.Flags()
	fl.StringVar(&o.out, "out", "cmg-lab", "lab directory to create (must not exist, or be empty; see --force)")
	fl.StringVar(&o.domain, "domain", "contoso.com", "DNS domain of the lab names")
	fl.StringVar(&o.baseURL, "base-url", "http://127.0.0.1:8080", "http base URL baked into CDP, AIA and OCSP; point it at a host clients reach")
	fl.StringVar(&o.keyType, "key-type", "", "key type of every certificate: rsa2048 (default), rsa3072, rsa4096, p256, p384; refused where a profile forbids it")
	fl.StringVar(&o.caKeyType, "ca-key-type", "", "key type of the CAs (default: --key-type)")
	fl.BoolVar(&o.noIssuing, "no-issuing-ca", false, "sign leaves with the root directly (no issuing CA)")
	fl.BoolVar(&o.force, "force", false, "replace an existing lab made by cmgpki, only if it holds no CA key at any depth and no file cmgpki did not write")
	fl.BoolVar(&o.reproducible, "reproducible", false, "byte-identical PEM/DER/manifest across runs: needs --keys and --not-before; serials and GUIDs derive from the spec")
	fl.StringVar(&o.keysDir, "keys", "", "directory of reusable keys (generated on first use, reused after)")
	fl.StringVar(&o.notBefore, "not-before", "", "notBefore of every certificate, RFC 3339 (default: now less 10 minutes)")
	fl.StringVar(&o.keyPasswordFile, "key-password-file", "", "encrypt private key files with the password in this file (or $CMGPKI_KEY_PASSWORD)")
	addOutputFlag(c, &o.output)
	if !full {
		fl.BoolVar(&o.noWPJ, "no-wpj-ca", false, "do not create the MS-Organization-Access-style WPJ CA")
		return
	}
	fl.StringVar(&o.spec, "spec", "", "YAML lab spec (see testdata/lab.yaml); flags given explicitly override it")
	fl.StringVar(&o.cmgName, "cmg-name", "", "CMG service name, the CN of the CMG server certificate (default cmg.<domain>)")
	fl.StringVar(&o.mpName, "mp-name", "", "management point internet FQDN (default mp.<domain>)")
	fl.StringSliceVar(&o.mpSANs, "mp-san", nil, "management point SAN FQDNs, intranet and internet (default the MP name and mp01.corp.<domain>)")
	fl.StringVar(&o.cpName, "cp-name", "", "CMG connection point server FQDN (default cmgcp01.corp.<domain>)")
	fl.IntVar(&o.clients, "clients", 1, "number of PKI client certificates")
	fl.IntVar(&o.devices, "devices", 1, "number of Entra (WPJ) device certificates")
	fl.StringVar(&o.pfxFormat, "pfx-format", "", "PFX encryption for every PFX: legacy (3DES/SHA-1, any Windows) or modern (AES-256, Server 2019+); default per profile (legacy for cmg-server)")
	fl.StringVar(&o.pfxPasswordFile, "pfx-password-file", "", "PFX password file (or $CMGPKI_PFX_PASSWORD); default: generate one into pfx-password.txt")
	fl.StringVar(&o.template, "template", "", "x509util template file applied on top of each leaf profile")
}

// spec builds the lab spec from a spec file and the flags set explicitly.
func (o *labFlags) specFrom(c *cobra.Command) (*ca.LabSpec, error) {
	s := &ca.LabSpec{}
	if o.spec != "" {
		var err error
		if s, err = ca.ReadSpec(o.spec); err != nil {
			return nil, err
		}
	}
	s.FromFlags = map[string]bool{}
	ch := func(flag, key string) bool {
		if c.Flags().Changed(flag) {
			s.FromFlags[key] = true
			return true
		}
		return false
	}
	str := func(flag, key string, dst *string, v string) {
		if ch(flag, key) || *dst == "" {
			*dst = v
		}
	}
	str("domain", "domain", &s.Domain, o.domain)
	str("base-url", "base_url", &s.BaseURL, o.baseURL)
	if ch("key-type", "key_type") {
		s.KeyType = o.keyType
	}
	if ch("ca-key-type", "ca_key_type") {
		s.CAKeyType = o.caKeyType
	}
	if ch("pfx-format", "pfx_format") {
		s.PFXFormat = o.pfxFormat
	}
	if ch("no-issuing-ca", "issuing_ca") {
		v := !o.noIssuing
		s.IssuingCA = &v
	}
	if ch("cmg-name", "cmg.cn") {
		s.CMG.CN = o.cmgName
	}
	if ch("mp-name", "mp.cn") {
		s.MP.CN = o.mpName
	}
	if ch("mp-san", "mp.sans") {
		s.MP.SANs = o.mpSANs
	}
	if ch("cp-name", "connection_point.cn") {
		s.CP.CN = o.cpName
	}
	if ch("clients", "clients") || s.Clients == nil {
		v := o.clients
		s.Clients = &v
	}
	if ch("devices", "devices") || s.Devices == nil {
		v := o.devices
		s.Devices = &v
	}
	return s, nil
}

func (o *labFlags) options(f *Factory, c *cobra.Command) (ca.LabOptions, error) {
	opts := ca.LabOptions{
		Out: o.out, Force: o.force, Reproducible: o.reproducible,
		Keys: ca.KeyStore{Dir: o.keysDir}, Clock: f.Clock, Rand: f.Rand, Progress: f.IO.ErrOut,
		Notes: func(n string) { f.notef("%s", n) },
	}
	if o.notBefore != "" {
		t, err := time.Parse(time.RFC3339, o.notBefore)
		if err != nil {
			return opts, usageErr(fmt.Errorf("--not-before: %q is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z)", o.notBefore))
		}
		opts.NotBefore = t
	}
	pw, err := f.secret("--pfx-password-file", o.pfxPasswordFile, "CMGPKI_PFX_PASSWORD")
	if err != nil {
		return opts, err
	}
	opts.PFXPassword = string(pw)
	if opts.KeyPassword, err = f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD"); err != nil {
		return opts, err
	}
	if o.template != "" {
		b, err := os.ReadFile(o.template)
		if err != nil {
			return opts, usageErr(fmt.Errorf("--template: %w", err))
		}
		opts.Template = string(b)
	}
	return opts, nil
}

func newLabCmd(f *Factory) *cobra.Command {
	c := groupCmd("lab", "make a complete CMG lab PKI")
	o := &labFlags{}
	create := &cobra.Command{
		Use:   "create",
		Short: "make a root CA, issuing CA and every CMG role certificate in one directory",
		Long: `Make a complete, internally consistent lab PKI for a CMG deployment:
root CA, issuing CA, CMG server-auth (cmg.<domain>), management point HTTPS
(internet and intranet FQDN), CMG connection-point client-auth, PKI client(s),
an MS-Organization-Access-style WPJ CA and Entra (WPJ) device certificate(s).

Each certificate is written as PEM, chain PEM, DER .cer, PKCS#8 key (0600) and
a PFX with the full chain; manifest.json (schema cmgpki/lab/v1) lists them all.
import-windows.ps1 imports the CAs on Windows, and a PFX only where you name
it (-Name cmg-server), on the machine it belongs to. Every certificate is linted
against its role profile before it is signed; what a profile forbids is never
signed.

Reproducible fixtures: --reproducible --keys DIR --not-before T gives
byte-identical PEM/DER files and manifest across runs. Keys are reused from
DIR (Go ignores custom randomness in key generation) and RSA PKCS#1 v1.5
signatures are deterministic; ECDSA signatures are randomized, so use RSA
CAs (the default) for byte-identical output. PFX files are identical too when
the password is given (--pfx-password-file or $CMGPKI_PFX_PASSWORD).

Arguments:
  none; see the flags. Passwords are read from files or the environment,
  never from a flag value.

` + exitCodesHelp(runCodes...),
		Example: `  cmgpki lab create --out cmg-lab
  cmgpki lab create --out lab2 --domain fabrikam.com --cmg-name cmg01.fabrikam.com --clients 50
  cmgpki lab create --out lab3 --spec testdata/lab.yaml --output json
  cmgpki lab create --out fixtures --reproducible --keys .keys --not-before 2026-01-01T00:00:00Z
  CMGPKI_PFX_PASSWORD=secret cmgpki lab create --out lab4 --pfx-format modern`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.create(f, c, nil, true) },
	}
	o.register(create, true)
	c.AddCommand(create)
	return c
}

func newCACmd(f *Factory) *cobra.Command {
	c := groupCmd("ca", "manage lab certificate authorities")
	o := &labFlags{}
	init := &cobra.Command{
		Use:   "init",
		Short: "create a root CA, an issuing CA and the WPJ CA in a new lab directory",
		Long: `Create the CAs of a lab directory without any leaf certificate; add leaves
later with "cmgpki issue PROFILE --lab DIR".

The WPJ CA is RSA, as Entra's MS-Organization-Access CA is: with an EC
--key-type it stays rsa2048 (a Note says so); --no-wpj-ca leaves it out.

` + exitCodesHelp(runCodes...),
		Example: `  cmgpki ca init --out my-ca
  cmgpki ca init --out ec-ca --key-type p384 --no-issuing-ca --no-wpj-ca
  cmgpki ca init --out pki-ca --base-url http://pki.contoso.com`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.create(f, c, func(spec *ca.LabSpec) { spec.CAOnly, spec.NoWPJCA = true, o.noWPJ }, false)
		},
	}
	o.register(init, false)
	c.AddCommand(init)
	return c
}

// create makes the lab the flags describe (adjust, when set, changes the
// spec first) and renders it; full lists the leaves too.
func (o *labFlags) create(f *Factory, c *cobra.Command, adjust func(*ca.LabSpec), full bool) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	spec, err := o.specFrom(c)
	if err != nil {
		return err
	}
	if adjust != nil {
		adjust(spec)
	}
	opts, err := o.options(f, c)
	if err != nil {
		return err
	}
	// A new lab has no store: it is created, and imports the manifest, on first use.
	m, err := ca.CreateLab(c.Context(), spec, opts)
	if err != nil {
		return withTemplateFile(err, o.template)
	}
	return renderLab(f, o.out, m, o.output, full)
}

func renderLab(f *Factory, dir string, m *lab.Manifest, output string, full bool) error {
	for _, e := range append(append([]lab.Entry{}, m.CAs...), m.Certificates...) {
		printFindings(f, e.Name, e.Findings)
	}
	warnExpired(f, m)
	if output == "json" {
		return renderJSON(f.IO.Out, m)
	}
	if err := renderEntries(f, append(append([]lab.Entry{}, m.CAs...), m.Certificates...)); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Made %s and %s in %s (manifest: %s)\n",
		plural(len(m.CAs), "CA", "CAs"), plural(len(m.Certificates), "certificate", "certificates"), dir, filepath.Join(dir, lab.ManifestFile))
	if m.PFXPasswordFile != "" {
		f.notef("the PFX password is in %s (0600); private keys are 0600", filepath.Join(dir, m.PFXPasswordFile))
	}
	fmt.Fprintf(f.IO.ErrOut, "Next: run \"cmgpki serve --lab %s\" to publish CRLs and OCSP at %s", dir, m.BaseURL)
	if full {
		fmt.Fprintf(f.IO.ErrOut, ";\n      upload certs/cmg-server.pfx in the CMG wizard; on Windows run import-windows.ps1 (elevated) for the CAs,\n      and import-windows.ps1 -Name NAME on the machine each certificate belongs to")
	}
	fmt.Fprintln(f.IO.ErrOut)
	return nil
}

func renderEntries(f *Factory, es []lab.Entry) error {
	var rows [][]string
	for _, e := range es {
		file := e.Files.PFX
		if file == "" {
			file = e.Files.Cert
		}
		rows = append(rows, []string{e.Role, e.Name, e.Subject, strings.Join(e.DNSNames, ", "), e.KeyType,
			e.NotAfter[:10], e.SHA1Thumbprint, file})
	}
	return renderTable(f, entryColumns, rows)
}

// warnExpired warns when certificates of a new lab have already expired at
// the clock's now (a --not-before far in the past): allowed, as test
// fixtures want such labs, but no client accepts them.
func warnExpired(f *Factory, m *lab.Manifest) {
	now := f.Clock.Now()
	var gone []string
	for _, e := range m.All() {
		if na, err := time.Parse(time.RFC3339, e.NotAfter); err == nil && !na.After(now) {
			gone = append(gone, fmt.Sprintf("%s (%s)", e.Name, e.NotAfter))
		}
	}
	if len(gone) == 0 {
		return
	}
	fmt.Fprintf(f.IO.ErrOut, "Warning: the lab is already expired at the current time %s: %s of it expired (%s); no client accepts them (fine for a test fixture)\n",
		now.UTC().Format(time.RFC3339), plural(len(gone), "certificate", "certificates"), strings.Join(gone, ", "))
}
