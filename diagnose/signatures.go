package diagnose

import (
	"regexp"

	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/lint"
)

// The built-in signatures: one per failure of ../shared/docs/cmg-failures.md
// that has a log signature, plus the seeds' common issues (cmg-flow.md
// "Common issues"). Match texts are the documented lines, verbatim.
// To add one: append a Register call here and a fixture directory
// testdata/signatures/<ID>/ holding logs that trigger it.

const (
	kbCMG   = "learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error (KB 4503442)"
	wfCCM   = "learn.microsoft.com/mem/configmgr/core/clients/manage/azure-ccmsetup"
	amBlog  = "blogs.msdn.microsoft.com/ameltzer/2008/04/14/common-native-mode-client-gt-mp-error-messages-and-what-to-do-about-them/"
	secFail = "WINHTTP_CALLBACK_STATUS_SECURE_FAILURE"
)

// secureFlag matches a "<flag> is set" line of a WinHTTP secure failure.
func secureFlag(flag string) Pattern {
	return Pattern{Text: "WINHTTP_CALLBACK_STATUS_FLAG_" + flag + " is set"}
}

// secureContext are the lines around a flag line: the OR of the flags and
// the failing request.
var secureContext = []Pattern{{Text: "lpvStatusInformation is 0x"}, {Text: "Text=ERROR_WINHTTP_SECURE_FAILURE"}}

func init() {
	r := &signatures
	r.Register(Signature{
		ID: "F01", Title: "client does not trust the root (or an intermediate) of the CMG server certificate",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("INVALID_CA"),
		Alt:      []Pattern{{Text: "WinHttpError 12045"}, {Text: "Code=12045,"}},
		Context:  secureContext,
		Windows:  lint.UntrustedRoot,
		Cause:    "the CMG server certificate chains to a root that is not in the client's LocalMachine Trusted Root store (or an intermediate is missing and its AIA is unreachable, F15); Entra or token authentication does not remove the need, the client still validates the server certificate",
		Fix:      "deploy the root CA (and intermediates) to the client's LocalMachine Root/CA stores (Intune trusted-certificate profile, GPO), or use a certificate from a public CA; include the full chain in the CMG PFX",
		Proof:    "cmgpki verify endpoint https://{cmg} --roots CLIENT-ROOTS.pem",
		Citation: "cmg-failures.md F01 (and F15); " + kbCMG + "; " + amBlog + "; github.com/MicrosoftDocs/SCCMdocs/issues/1319",
	})
	r.Register(Signature{
		ID: "F02", Title: "client cannot check revocation of the CMG server certificate (CRL/OCSP unreachable)",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("CERT_REV_FAILED"),
		Alt:      []Pattern{{Text: "WinHttpError 12057"}, {Text: "Code=12057,"}},
		Context:  secureContext,
		Windows:  lint.RevocationOffline,
		Cause:    "the client checks revocation by default and treats an unreachable CRL or OCSP responder as a failure: the CDP/OCSP URLs of the CMG certificate chain are not reachable from the internet (or, on proxied networks, not for SYSTEM through WinHTTP: F04; or the clock is off: F29)",
		Fix:      "publish the CRL (and AIA) over plain HTTP on the internet, or clear \"Clients check the certificate revocation list (CRL) for site systems\" on the site's Communication Security tab; for the ccmsetup bootstrap only, /NoCRLCheck",
		Proof:    "cmgpki verify endpoint https://{cmg} --crl-check",
		Citation: "cmg-failures.md F02 (F04, F29 share the line); " + kbCMG + "; learn.microsoft.com/mem/configmgr/core/plan-design/security/plan-for-certificates",
	})
	r.Register(Signature{
		ID: "F03", Title: "installed with /NoCRLCheck, then revocation checking came back with the site's security settings",
		Step: flow.StepSecSettings, Component: flow.CompClient,
		Match:      secureFlag("CERT_REV_FAILED"),
		Alt:        []Pattern{{Text: "WinHttpError 12057"}, {Text: "Code=12057,"}},
		Context:    secureContext,
		Also:       []Pattern{{File: "ccmsetup", Text: "Created connection on port 443"}},
		Absent:     []Pattern{{File: "ccmsetup", Text: "Enabled SSL revocation check."}},
		Supersedes: []string{"F02"},
		Windows:    lint.RevocationOffline,
		Cause:      "ccmsetup connected without revocation checking (/NoCRLCheck: no \"Enabled SSL revocation check.\" in ccmsetup.log), so the bootstrap worked; /NoCRLCheck covers only the bootstrap, and once location services refreshed the site's security settings the client checks CRLs it cannot reach",
		Fix:        "publish the CRL of the CMG certificate chain on the internet, or clear \"Clients check the certificate revocation list (CRL) for site systems\" on the site (Communication Security tab)",
		Proof:      "cmgpki verify endpoint https://{cmg} --crl-check",
		Citation:   "cmg-failures.md F03; cmg-flow.md Common issues; memdocs sccm/core/clients/manage/azure-ccmsetup.md (2019-07, Common issues); SCCMdocs issue 1222",
	})
	r.Register(Signature{
		ID: "F05", Title: "the certificate the CMG presents does not carry the CMG's name",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("CERT_CN_INVALID"),
		Alt:      []Pattern{{Text: "WinHttpError 12038"}, {Text: "Code=12038,"}},
		Context:  secureContext,
		Windows:  lint.NameMismatch,
		Cause:    "the presented certificate's name differs from the service name the client dials: the wrong PFX was uploaded, a TLS-inspecting proxy swapped the certificate, or a CNAME points elsewhere",
		Fix:      "issue the CMG certificate with the service FQDN as CN/SAN, bypass TLS inspection for the CMG, and fix the public (and internal) CNAME to the deployment name",
		Proof:    "cmgpki verify endpoint https://{cmg}",
		Citation: "cmg-failures.md F05; " + kbCMG + "; MicrosoftDocs/memdocs issue 3162",
	})
	r.Register(Signature{
		ID: "F06", Title: "content-enabled CMG with a third-party certificate: pre-1902 clients use the cloudapp.net storage name",
		Step: flow.StepLocation, Component: flow.CompClient,
		Match:      Pattern{Text: "GetDirectoryList failed with a non-recoverable failure, 0x87d00454"},
		Context:    []Pattern{{Text: "CCM_E_NO_CLIENT_PKI_CERT"}, {Text: "CERT_CN_INVALID"}},
		Also:       []Pattern{{Text: ".cloudapp.net/downloadrestservice.svc"}, {Text: "CERT_CN_INVALID"}},
		Supersedes: []string{"F05", "F32"},
		Windows:    lint.NameMismatch,
		Cause:      "the client fetches content from https://<name>.cloudapp.net/downloadrestservice.svc, a name the third-party certificate does not carry (sites before 1902)",
		Fix:        "update the site to 1902 or later",
		Proof:      "cmgpki verify endpoint https://{cmg}",
		Citation:   "cmg-failures.md F06; learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cannot-download-content-from-cmg",
	})
	r.Register(Signature{
		ID: "F07", Title: "the CMG server certificate is expired (or not yet valid)",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("CERT_DATE_INVALID"),
		Alt:      []Pattern{{Text: "WinHttpError 12037"}, {Text: "Code=12037,"}},
		Context:  secureContext,
		Windows:  lint.Expired,
		Cause:    "the CMG server certificate is outside its validity period (ConfigMgr raises no expiry alert); on a single machine with a wrong clock, the same line means clock skew (F29)",
		Fix:      "renew the certificate with the same CN and load the PFX in CMG Properties > Settings > Certificate file; check the client's clock (w32tm /query /status)",
		Proof:    "cmgpki verify endpoint https://{cmg}",
		Citation: "cmg-failures.md F07 (F29 shares the line); petervanderwoude.nl/post/expired-cloud-management-gateway-server-authentication-certificate/",
	})
	r.Register(Signature{
		ID: "S01", Title: "the CMG certificate is revoked",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("CERT_REVOKED"),
		Alt:      []Pattern{{Text: "WinHttpError 12170"}, {Text: "Code=12170,"}},
		Context:  secureContext,
		Windows:  lint.Revoked,
		Cause:    "the CMG server certificate (or a CA above it) is on its issuer's CRL",
		Fix:      "issue a new CMG server certificate with the same CN and load it in CMG Properties",
		Proof:    "cmgpki verify endpoint https://{cmg} --crl-check",
		Citation: "cmg-failures.md WinHTTP secure-failure flags (CERT_REVOKED 0x4); cmg-reference.md §6",
	})
	r.Register(Signature{
		ID: "S02", Title: "the CMG certificate is not valid for server authentication",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    secureFlag("CERT_WRONG_USAGE"),
		Alt:      []Pattern{{Text: "WinHttpError 12179"}, {Text: "Code=12179,"}},
		Context:  secureContext,
		Windows:  lint.WrongUsage,
		Cause:    "the CMG server certificate (or a CA above it) does not allow server authentication (EKU)",
		Fix:      "issue the CMG certificate from a Web Server template (serverAuth EKU) with CAs that allow it",
		Proof:    "cmgpki verify cert CMG-CERT.pem --profile cmg-server",
		Citation: "cmg-failures.md WinHTTP secure-failure flags (CERT_WRONG_USAGE 0x40); cmg-reference.md §6",
	})
	r.Register(Signature{
		ID: "F08", Title: "renewed CMG certificate has a different CN (even only by letter case)",
		Match:    Pattern{Text: "New certificate must have the same CName as previous certificate."},
		Cause:    "the renewed certificate's CN is not byte-for-byte the previous one",
		Fix:      "reissue the certificate with exactly the same CN, letter case included",
		Proof:    "cmgpki verify cert NEW-CMG-CERT.pem --profile cmg-server --previous OLD-CMG-CERT.pem",
		Citation: "cmg-failures.md F08; MicrosoftDocs/memdocs PR 499; learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/modify-cloud-management-gateway",
	})
	r.Register(Signature{
		ID: "F11", Title: "the CMG PFX's private key cannot be used (not exportable, or CNG on an old build)",
		Match:    Pattern{Text: "The private key for the remote desktop certificate cannot be accessed"},
		Cause:    "the PFX's private key is not exportable or its provider (CNG/KSP) is not supported by the CMG build",
		Fix:      "re-export the certificate with an exportable key in a legacy CSP (for example through OpenSSL) and rebuild the CMG",
		Proof:    "cmgpki verify cert CMG.pfx --profile cmg-server",
		Citation: "cmg-failures.md F11; github.com/ConfigMatt/configmatt.com _posts/2017-06-09-sccm-cloud-management-gateway-deployment-notes.md",
	})
	r.Register(Signature{
		ID: "F16", Title: "the CMG does not trust the PKI client certificate's chain (an intermediate missing from the CMG's trusted CAs)",
		Step: flow.StepLocation, Component: flow.CompCMG,
		Context:  []Pattern{{File: "CMGService", Text: "RequestUri:"}},
		Match:    Pattern{File: "CMGService", Text: "Client certificate validation failed for", Re: regexp.MustCompile(`CERT_E_CHAINING|CERT_E_UNTRUSTEDROOT|0x800B010A|0x800B0109`)},
		Windows:  lint.Chaining,
		Cause:    "the CMG validates PKI client certificates against the root and intermediate CAs uploaded in its Certificates list; with only the root uploaded the chain of the client certificate does not build and the request is refused",
		Fix:      "add the root and every intermediate of the client certificates to the CMG's trusted certificates (CMG Properties > Certificates)",
		Proof:    "cmgpki verify cert CLIENT-CERT.pem --profile pki-client --roots CMG-TRUSTED-CAS.pem",
		Citation: "cmg-failures.md F16 (SCCMdocs issue 1372: 401 until the intermediate was added); the CMGService.log line is the handshake simulator's modelled wording, no public log line is known (cmg-failures.md Gaps)",
	})
	r.Register(Signature{
		ID: "F37", Title: "the CMG found the PKI client certificate revoked (or could not check it)",
		Step: flow.StepLocation, Component: flow.CompCMG,
		Context:  []Pattern{{File: "CMGService", Text: "RequestUri:"}},
		Match:    Pattern{File: "CMGService", Text: "Client certificate validation failed for", Re: regexp.MustCompile(`CRYPT_E_REVOKED|CRYPT_E_REVOCATION_OFFLINE|0x80092010|0x80092013`)},
		Windows:  lint.Revoked,
		Cause:    "with \"Verify client certificate revocation\" on, the CMG checks the PKI client certificate's CRL: the certificate is revoked, or its CRL is not published where the CMG can fetch it",
		Fix:      "issue the client a new certificate; if the CRL is not public, publish it or turn \"Verify client certificate revocation\" off (no effect on Entra or token clients)",
		Proof:    "cmgpki verify cert CLIENT-CERT.pem --profile pki-client --crl-check",
		Citation: "cmg-failures.md F37; SCCMdocs issue 1434; memdocs issue 1452; the CMGService.log line is the handshake simulator's modelled wording (cmg-failures.md Gaps: no public line)",
	})
	r.Register(Signature{
		ID: "F17", Title: "the CMG connection point has no usable client-authentication certificate for the HTTPS MP",
		Step: flow.StepLocation, Component: flow.CompCP,
		Match:       Pattern{Text: "CMGConnector_Clientcertificaterequired"},
		Alt:         []Pattern{{File: "PROXYCONNECTOR", Text: "403 Forbidden"}},
		StepFromURI: true,
		HTTP:        "HTTP 403 CMGConnector_Clientcertificaterequired",
		Cause:       "the connection point filters its certificates (digital signature KU → allowed root CA → private key → client-auth EKU) and none is left, so it cannot reach the HTTPS management point",
		Fix:         "issue a client-authentication certificate with a unique subject/SAN to the connection point server (not needed for an Enhanced HTTP MP with token auth)",
		Proof:       "cmgpki verify cert CP-CERT.pem --profile cmg-connection-point",
		Citation:    "cmg-failures.md F17; " + kbCMG,
	})
	r.Register(Signature{
		ID: "F17v", Title: "the CMG connection point found no client-authentication certificate (verbose filter funnel)",
		Step: flow.StepLocation, Component: flow.CompCP,
		Match:      Pattern{File: "PROXYCONNECTOR", Text: "Filtered cert count with client auth: 0"},
		Supersedes: []string{"F17"},
		HTTP:       "HTTP 403 CMGConnector_Clientcertificaterequired",
		Cause:      "the connection point's certificate filter ends with no client-authentication certificate",
		Fix:        "issue a client-authentication certificate with a unique subject/SAN to the connection point server",
		Proof:      "cmgpki verify cert CP-CERT.pem --profile cmg-connection-point",
		Citation:   "cmg-failures.md F17; " + kbCMG,
	})
	r.Register(Signature{
		ID: "F18", Title: "the connection point's client certificate cannot be revocation-checked from the connection point",
		Step: flow.StepLocation, Component: flow.CompCP,
		Match:       Pattern{File: "PROXYCONNECTOR", Text: "OfflineRevocation"},
		StepFromURI: true,
		Context:     []Pattern{{Text: "Chain build failed cert:"}},
		Also:        []Pattern{{File: "PROXYCONNECTOR", Text: "Chain build failed cert:"}},
		Supersedes:  []string{"F17", "F17v"},
		Windows:     lint.RevocationOffline,
		HTTP:        "HTTP 403 CMGConnector_Clientcertificaterequired",
		Cause:       "the connection point has a client-authentication certificate, but the CRL of its chain is unreachable from the connection point server, so the chain build fails and the certificate is filtered out",
		Fix:         "make the CRL reachable from the connection point (as SYSTEM); as a last resort disable CRL checking for connection points",
		Proof:       "cmgpki verify cert CP-CERT.pem --profile cmg-connection-point --crl-check",
		Citation:    "cmg-failures.md F18; learn.microsoft.com/troubleshoot/mem/intune/comanage-configmgr/troubleshoot-co-management-bootstrap",
	})
	r.Register(Signature{
		ID: "F19", Title: "the MP refused the connection point: wrong or expired HTTPS binding, or no SMS Role SSL Certificate",
		Step: flow.StepLocation, Component: flow.CompMP,
		Match:       Pattern{Text: "CMGConnector_Forbidden"},
		Supersedes:  []string{"F17"},
		StepFromURI: true,
		HTTP:        "HTTP 403 CMGConnector_Forbidden",
		Cause:       "the MP's IIS 443 binding holds an expired, revoked or wrong certificate, or the MP moved from HTTPS to Enhanced HTTP and the binding lacks the SMS Role SSL Certificate (MP IIS log: 403 7, client certificate not found)",
		Fix:         "bind the MP's PKI certificate (HTTPS) or the SMS Role SSL Certificate (Enhanced HTTP) on port 443; toggle Enhanced HTTP off and on to recreate it",
		Proof:       "cmgpki verify endpoint https://{mp}",
		Citation:    "cmg-failures.md F19; " + kbCMG + "; MicrosoftDocs/memdocs PR 600",
	})
	r.Register(Signature{
		ID: "F20", Title: "the connection point's role certificate is missing",
		Step: flow.StepCCMToken, Component: flow.CompCP,
		Match:    Pattern{Text: "missing role certificate. reload in next cycle"},
		Cause:    "the connection point (on a server without the MP role) lacks the \"cloud proxy connector\" certificate in the SMS certificate store; the root cause is undocumented",
		Fix:      "co-locate the connection point with a management point (reported workaround), then check the SMS\\Certificates store",
		Citation: "cmg-failures.md F20; SCCMdocs issue 2267",
	})
	r.Register(Signature{
		ID: "F22", Title: "no WPJ certificate: the device is Entra registered, not joined",
		Step: flow.StepAuth, Component: flow.CompClient,
		Match:      Pattern{Text: "WPJ certificate not found"},
		Alt:        []Pattern{{Text: "(no WPJ certificate)"}},
		Supersedes: []string{"F22a", "F24"},
		Cause:      "the client tries Entra authentication only with a workplace-join (WPJ) device certificate; a registered (not joined) device, or an incomplete hybrid join, has none",
		Fix:        "complete the Entra join or hybrid join (dsregcmd /status, Device State: AzureAdJoined : YES), or install with a PKI client certificate or a bulk registration token",
		Proof:      "cmgpki verify cert WPJ-DEVICE-CERT.pem --profile wpj-device",
		Citation:   "cmg-failures.md F22; cmg-flow.md Common issues (\"WPJ certificate not found\" is the documents' wording; the exact log line is not quoted); " + wfCCM + " (2019 revision); SCCMdocs PR 860",
	})
	r.Register(Signature{
		ID: "F22a", Title: "no Entra token was requested although the client installs through the CMG",
		Step: flow.StepAuth, Component: flow.CompClient,
		Match:     Pattern{File: "ccmsetup", Text: "Getting CCM Token from"},
		Absent:    []Pattern{{Text: "Getting AAD (device) token"}, {Text: "Getting AAD (user) token"}, {Text: "Retrieved AAD token"}, {Text: "PKI"}},
		Recovered: []Pattern{{Text: "Cached encrypted token for"}},
		Cause:     "ccmsetup never asked for an Entra token: without a WPJ certificate (device registered, not joined) no Entra token is requested",
		Fix:       "complete the Entra join or hybrid join (dsregcmd /status), or install with a PKI client certificate or a bulk registration token",
		Citation:  "cmg-failures.md F22; " + wfCCM,
	})
	r.Register(Signature{
		ID: "F23", Title: "device token unavailable from WAM",
		Step: flow.StepAuth, Component: flow.CompClient,
		Match:     Pattern{Text: "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0x"},
		Recovered: []Pattern{{Text: "Retrieved AAD token for AAD user"}},
		Cause:     "the device token could not be obtained (Windows before 1803, device not Entra/hybrid joined, or the server app not enabled for device tokens); the client falls back to a user token, and with neither it stops",
		Fix:       "in the console run \"Update application settings\" on the Entra server app; update Windows to 1803+; complete the join (dsregcmd /status)",
		Citation:  "cmg-failures.md F23; " + wfCCM + "; techcommunity.microsoft.com aad-device-token-authentication-and-cloud-management-gateway-cmg/740074",
	})
	r.Register(Signature{
		ID: "F24", Title: "ccmsetup stopped after asking the CMG for AAD information (tenant not onboarded)",
		Step: flow.StepAADInfo, Component: flow.CompCMG,
		Match:    Pattern{File: "ccmsetup", Text: "AADAuthInfo?TenantID="},
		Context:  []Pattern{{File: "ccmsetup", Text: "Failed to get AAD info from CMG"}},
		Absent:   []Pattern{{Text: "Getting AAD (device) token"}, {Text: "Getting AAD (user) token"}, {Text: "Getting CCM Token from"}, {Text: "WINHTTP_CALLBACK_STATUS_FLAG_"}, {Text: "WinHttpError"}, {Text: "Text=ERROR_WINHTTP"}},
		Cause:    "the device's tenant is not onboarded as a cloud management service in ConfigMgr: the CMG returns no AADCLIENTAPPID/AADRESOURCEURI and ccmsetup cannot go on (the exact failure line is not documented; this is inferred from where the log stops)",
		Fix:      "onboard the tenant (Administration > Azure Services > Cloud Management), or pass AADCLIENTAPPID and AADRESOURCEURI to ccmsetup",
		Proof:    "cmgpki verify endpoint https://{cmg}",
		Citation: "cmg-failures.md F24; " + wfCCM + " (both revisions)",
	})
	r.Register(Signature{
		ID: "F25", Title: "the Entra server app's secret cannot be renewed or read",
		Match:    Pattern{Text: "Could not obtain application secret for tenant"},
		Cause:    "the Entra server app's secret expired, was renewed without Global Admin, or is missing after a site expansion",
		Fix:      "run \"Renew Secret Key\" on the Azure service as a Global Admin",
		Citation: "cmg-failures.md F25; MicrosoftDocs/memdocs PR 4828; SCCMdocs issue 1103",
	})
	r.Register(Signature{
		ID: "F25a", Title: "renewing the Entra app secret was denied",
		Match:    Pattern{Text: "Authorization_RequestDenied"},
		Cause:    "renewing the server app's secret needs Global Admin rights",
		Fix:      "run \"Renew Secret Key\" as a Global Admin",
		Citation: "cmg-failures.md F25; MicrosoftDocs/memdocs PR 4828",
	})
	r.Register(Signature{
		ID: "F26", Title: "the token is expired (bulk registration token, or a client offline too long)",
		Step: flow.StepCCMToken, Component: flow.CompMP,
		Match:     Pattern{Text: "IDX10223: Lifetime validation failed. The token is expired."},
		HTTP:      "HTTP 401 CMGService_Invalid_Token",
		Recovered: []Pattern{{Text: "Cached encrypted token for"}},
		Cause:     "the bulk registration token (3 days by default, 7 at most) has expired, or the client was offline longer than its CCM token's 90-day life",
		Fix:       "connect the client to an internal MP, or reinstall with a new /regtoken",
		Citation:  "cmg-failures.md F26; " + kbCMG + "; learn.microsoft.com/mem/configmgr/core/clients/deploy/deploy-clients-cmg-token",
	})
	r.Register(Signature{
		ID: "F26c", Title: "the CMG rejected the client's token as invalid",
		Step: flow.StepCCMToken, Component: flow.CompCMG,
		Match:     Pattern{Text: "StatusText=CMGService_Invalid_Token"},
		Recovered: []Pattern{{Text: "Cached encrypted token for"}},
		HTTP:      "HTTP 401 CMGService_Invalid_Token",
		Cause:     "the token the client presented is invalid or expired (bulk registration token past its life, client offline more than 90 days); CCM_STS.log on the MP holds the validation error",
		Fix:       "connect the client to an internal MP, or reinstall with a new /regtoken",
		Citation:  "cmg-failures.md F26; " + kbCMG,
	})
	r.Register(Signature{
		ID: "F27", Title: "IIS on the MP redirects CCM_STS (App Catalog redirect)",
		Step: flow.StepCCMToken, Component: flow.CompMP,
		Match:    Pattern{Text: "CMGConnector_Unauthorized"},
		Context:  []Pattern{{Text: "RetrieveTokenFromStsServerImpl failed with error 0x87d0027e"}},
		Also:     []Pattern{{Text: "RetrieveTokenFromStsServerImpl failed with error 0x87d0027e"}},
		HTTP:     "HTTP 401 CMGConnector_Unauthorized",
		Cause:    "IIS on the management point redirects (302) the whole site, so the connection point's CCM_STS request never reaches the STS (no CCM_STS.log on the MP)",
		Fix:      "remove the IIS redirect (or the Application Catalog role) on the MP and restart IIS",
		Proof:    "cmgpki verify endpoint https://{mp}",
		Citation: "cmg-failures.md F27; ConfigMatt _posts/2019-12-06-cloud-management-gateway-connection-issues-when-using-azuread-authentication-sta.md",
	})
	r.Register(Signature{
		ID: "F28", Title: "CCM_STS cannot load System.IdentityModel.Tokens.JWT",
		Step: flow.StepCCMToken, Component: flow.CompMP,
		Match:    Pattern{Text: "Could not load file or assembly 'System.IdentityModel.Tokens.JWT"},
		HTTP:     "HTTP 500 CMGConnector_InternalServerError",
		Cause:    "a library version mismatch in CCM_STS on the MP (technical preview 2006 known issue)",
		Fix:      "copy the DLL from the site server as the known issue describes, or update",
		Citation: "cmg-failures.md F28; memdocs memdocs/configmgr/core/get-started/2020/includes/2006/known-issue-7569264.md",
	})
	r.Register(Signature{
		ID: "F30", Title: "TLS 1.2 enforced but the console's .NET lacks strong crypto",
		Match:    Pattern{Text: "The underlying connection was closed: An unexpected error occurred on a receive"},
		Cause:    ".NET without strong crypto (SchUseStrongCrypto) or an old WinHTTP cannot speak TLS 1.2 once the servers enforce it",
		Fix:      "update .NET/WinHTTP and set SchUseStrongCrypto; patch Windows 7/2012 clients before enforcing TLS 1.2",
		Citation: "cmg-failures.md F30; learn.microsoft.com/mem/configmgr/core/plan-design/security/enable-tls-1-2-troubleshoot",
	})
	r.Register(Signature{
		ID: "F31", Title: "content-enabled CMG and Enforce TLS 1.2 have no common algorithm (1906, 1910 EUR)",
		Step: flow.StepLocation, Component: flow.CompCMG,
		Match:    Pattern{Text: "do not possess a common algorithm"},
		Cause:    "on 1906 and 1910 early-update-ring sites, the content-enabled CMG and Enforce TLS 1.2 share no cipher",
		Fix:      "update to 1910 GA or later, or use a classic cloud distribution point",
		Citation: "cmg-failures.md F31; memdocs release notes (2020-01 revision)",
	})
	r.Register(Signature{
		ID: "F31d", Title: "the CMG refused a content request (HTTP 400)",
		Step: flow.StepLocation, Component: flow.CompCMG,
		Match:      Pattern{Text: "Error sending DAV request. HTTP code 400, status 'Bad Request'"},
		Supersedes: nil,
		HTTP:       "HTTP 400 Bad Request",
		Cause:      "the content-enabled CMG refused the download; with Enforce TLS 1.2 on 1906/1910 EUR, CMGContentService.log shows \"do not possess a common algorithm\" (F31)",
		Fix:        "update to 1910 GA or later, or use a classic cloud distribution point; read CMGContentService.log",
		Citation:   "cmg-failures.md F31; memdocs release notes (2020-01 revision)",
	})
	r.Register(Signature{
		ID: "F32", Title: "no client PKI certificate on a PKI-only site",
		Step: flow.StepAuth, Component: flow.CompClient,
		Match:    Pattern{Text: "CCM_E_NO_CLIENT_PKI_CERT"},
		Cause:    "the site needs a PKI client certificate and the client has none (autoenrolment never granted it), or /UsePKICert is missing on 2103+ clients",
		Fix:      "enrol a client-authentication certificate (check the template's ACL), add /UsePKICert, or use Entra or token authentication",
		Proof:    "cmgpki verify client-selection CLIENT-CERTS-DIR",
		Citation: "cmg-failures.md F32; memdocs issues 1483 and 1010",
	})
	r.Register(Signature{
		ID: "F34", Title: "the client's identity certificate is missing or mismatched",
		Step: flow.StepRegister, Component: flow.CompClient,
		Match:    Pattern{Text: "[RegTask] - Server rejected registration 3"},
		Cause:    "the client's self-signed identity key is missing or no longer matches (cloned machine, rebuilt site)",
		Fix:      "delete the machine key and restart ccmexec so it is regenerated; after a site rebuild reinstall with RESETKEYINFORMATION=TRUE",
		Citation: "cmg-failures.md F34; github.com/AndersRodland/ConfigMgrClientHealth (Test-CCMCertificateError), PR 73",
	})
	r.Register(Signature{
		ID: "F34s", Title: "the client's identity certificate is not in the store",
		Step: flow.StepRegister, Component: flow.CompClient,
		Match:      Pattern{File: "ClientIDManagerStartup", Text: "Failed to find the certificate in the store"},
		Supersedes: []string{"F34"},
		Cause:      "the client's self-signed identity certificate is missing from the SMS store",
		Fix:        "delete the machine key and restart ccmexec so it is regenerated; after a site rebuild reinstall with RESETKEYINFORMATION=TRUE",
		Citation:   "cmg-failures.md F34; github.com/AndersRodland/ConfigMgrClientHealth (Test-CCMCertificateError)",
	})
	r.Register(Signature{
		ID: "F35", Title: "the Key Vault name of a VMSS CMG is already in use",
		Match:    Pattern{Text: "Vault names are globaly unique"},
		Cause:    "a VMSS CMG's Key Vault is named after the certificate's CN prefix, which is taken globally (or soft-deleted)",
		Fix:      "use a new prefix and certificate, or purge the soft-deleted vault; register the Microsoft.KeyVault resource provider",
		Citation: "cmg-failures.md F35; memdocs issues 1883, 2437",
	})
	r.Register(Signature{
		ID: "F36", Title: "connection point cannot reach a multi-VM classic CMG on its TCP ports (not a certificate fault)",
		Component: flow.CompCP,
		Match:     Pattern{Text: "TCP CONNECTION: Failed to authenticate with proxy server"},
		NotCert:   true,
		Cause:     "not a certificate fault, although it reads like one: ports 10124-10156 to a multi-VM classic CMG are blocked",
		Fix:       "open the ports to the deployment name, or use one VM (a VMSS CMG uses 443)",
		Citation:  "cmg-failures.md F36; ConfigMatt 2017-06-09 post",
	})
	r.Register(Signature{
		ID: "S03", Title: "the client's request failed its TLS check (secure failure without a flag line)",
		Step: flow.StepCMGTLS, Component: flow.CompClient,
		Match:    Pattern{Text: "Text=ERROR_WINHTTP_SECURE_FAILURE"},
		Absent:   []Pattern{{Text: " is set"}},
		Cause:    "WinHTTP refused the server certificate (ERROR_WINHTTP_SECURE_FAILURE 12175) but the logs do not say why: the flag lines (\"... is set\") that name the reason are missing from the logs given",
		Fix:      "collect LocationServices.log/CcmMessaging.log around the failure with the secure-failure flag lines, or prove the certificate directly",
		Proof:    "cmgpki verify endpoint https://{cmg} --crl-check",
		Citation: "cmg-failures.md WinHTTP secure-failure flags; " + kbCMG,
	})
}
