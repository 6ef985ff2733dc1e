package lint

import "fmt"

// SourceID names a document a requirement comes from. The catalogue below is
// the only list of citable sources; registering a rule that cites an unknown
// source panics at init.
type SourceID string

// The citable Microsoft and standards sources (see
// ../shared/docs/cmg-reference.md "Sources" for the versions read).
const (
	SrcSAC      SourceID = "SAC"
	SrcSetup    SourceID = "SETUP"
	SrcAuth     SourceID = "AUTH"
	SrcPKIReq   SourceID = "PKIREQ"
	SrcPlanCert SourceID = "PLANCERT"
	SrcProps    SourceID = "PROPS"
	SrcModify   SourceID = "MOD"
	SrcSupport  SourceID = "SUPP"
	SrcKB       SourceID = "KB"
	SrcDVRJ     SourceID = "DVRJ"
	SrcCUE      SourceID = "CUE"
	SrcHDHC     SourceID = "HDHC"
	SrcExPKI    SourceID = "EXPKI"
	SrcRevoke   SourceID = "REVOKE"
	SrcInstan   SourceID = "INSTAN"
	SrcPFXCmd   SourceID = "PFXCMD"
	SrcGoP12    SourceID = "GOP12"
	SrcRFC5280  SourceID = "RFC5280"
	SrcRFC6960  SourceID = "RFC6960"
	SrcCNG      SourceID = "CNG"
	SrcRFC2818  SourceID = "RFC2818"
	SrcChain    SourceID = "CHAIN"
)

// Source is one catalogued document.
type Source struct {
	ID       SourceID `json:"id"`
	Title    string   `json:"title"`
	URL      string   `json:"url"`
	Reviewed string   `json:"reviewed"` // ms.date or revision of the version read
}

const learn = "https://learn.microsoft.com/mem/configmgr/"

var sources = map[SourceID]Source{
	SrcSAC:      {SrcSAC, "CMG server authentication certificate", learn + "core/clients/manage/cmg/server-auth-cert", "2022-04-08"},
	SrcSetup:    {SrcSetup, "Set up a cloud management gateway", learn + "core/clients/manage/cmg/setup-cloud-management-gateway", "2022-09-18"},
	SrcAuth:     {SrcAuth, "Configure client authentication for CMG", learn + "core/clients/manage/cmg/configure-authentication", "2021-08-02"},
	SrcPKIReq:   {SrcPKIReq, "PKI certificate requirements for Configuration Manager", learn + "core/plan-design/network/pki-certificate-requirements", "2021-08-10"},
	SrcPlanCert: {SrcPlanCert, "Plan for PKI certificates in Configuration Manager", learn + "core/plan-design/security/plan-for-certificates", "2023-03-23"},
	SrcProps:    {SrcProps, "About client installation parameters and properties", learn + "core/clients/deploy/about-client-installation-properties", "2021-04-30"},
	SrcModify:   {SrcModify, "Modify a cloud management gateway", learn + "core/clients/manage/cmg/modify-cloud-management-gateway", "2022-04-08"},
	SrcSupport:  {SrcSupport, "Supported configurations for CMG", learn + "core/clients/manage/cmg/supported-configurations", "2022-07-12"},
	SrcKB:       {SrcKB, "Troubleshoot CMG communication errors (KB 4503442)", "https://learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error", "2025-02-11"},
	SrcDVRJ:     {SrcDVRJ, "[MS-DVRJ] Device Registration Join Protocol, 3.1.5.1.1.3 and 4.1", "https://learn.microsoft.com/openspecs/windows_protocols/ms-dvrj/", "v20240916"},
	SrcCUE:      {SrcCUE, "CertUiExts: Entra ID certificate extensions", "https://github.com/ralish/CertUiExts", "README, EntraId.c"},
	SrcHDHC:     {SrcHDHC, "Hybrid Devices Health Checker", "https://github.com/mzmaili/HybridDevicesHealthChecker", "main"},
	SrcExPKI:    {SrcExPKI, "Example deployment of PKI certificates", learn + "core/plan-design/network/example-deployment-of-pki-certificates", "2021"},
	SrcRevoke:   {SrcRevoke, "How Certificate Revocation Works (TechNet ee619754)", "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/ee619754(v=ws.10)", "2009"},
	SrcInstan:   {SrcInstan, "AD CS and dedicated CRL-signing certificates", "https://techcommunity.microsoft.com/blog/askds/adcs-and-dedicated-crl-signing-certificates", "2013-06-13"},
	SrcPFXCmd:   {SrcPFXCmd, "Export-PfxCertificate", "https://learn.microsoft.com/powershell/module/pki/export-pfxcertificate", "winserver2022-ps"},
	SrcGoP12:    {SrcGoP12, "go-pkcs12 encoders", "https://pkg.go.dev/software.sslmate.com/src/go-pkcs12", "v0.7.4"},
	SrcRFC5280:  {SrcRFC5280, "RFC 5280 Internet X.509 PKI Certificate and CRL Profile", "https://www.rfc-editor.org/rfc/rfc5280", "2008-05"},
	SrcRFC6960:  {SrcRFC6960, "RFC 6960 Online Certificate Status Protocol", "https://www.rfc-editor.org/rfc/rfc6960", "2013-06"},
	SrcCNG:      {SrcCNG, "CNG certificates overview", learn + "core/plan-design/network/cng-certificates-overview", "2021"},
	SrcRFC2818:  {SrcRFC2818, "RFC 2818 HTTP Over TLS", "https://www.rfc-editor.org/rfc/rfc2818", "2000-05"},
	SrcChain:    {SrcChain, "CertGetCertificateChain function (wincrypt.h)", "https://learn.microsoft.com/windows/win32/api/wincrypt/nf-wincrypt-certgetcertificatechain", "sdk-api, as read for windows-trust.md"},
}

// LookupSource returns the catalogued source id.
func LookupSource(id SourceID) (Source, bool) {
	s, ok := sources[id]
	return s, ok
}

// Citation points at one statement: a catalogued source and the heading or
// sentence in it.
type Citation struct {
	Source  SourceID `json:"source"`
	Section string   `json:"section"`
	URL     string   `json:"url"`
}

// Cite builds a citation; it panics on a source outside the catalogue, which
// is a programming error caught at init.
func Cite(id SourceID, section string) Citation {
	s, ok := sources[id]
	if !ok {
		panic(fmt.Sprintf("lint: citation of unknown source %q", id))
	}
	return Citation{Source: id, Section: section, URL: s.URL}
}

// String renders "[PKIREQ] Section".
func (c Citation) String() string {
	if c.Source == "" {
		return ""
	}
	return fmt.Sprintf("[%s] %s", c.Source, c.Section)
}
