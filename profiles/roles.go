package profiles

import (
	"crypto/x509"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

const (
	day  = 24 * time.Hour
	year = 365 * day
)

var (
	allKeys    = []KeyType{RSA2048, RSA3072, RSA4096, P256, P384}
	rsaKeys    = []KeyType{RSA2048, RSA3072, RSA4096}
	cmgRSAKeys = []KeyType{RSA2048, RSA4096}

	citeSHA2       = lint.Cite(lint.SrcPKIReq, "General requirements: SHA-2 signatures; Windows does not trust SHA-1")
	citeCDPBakedIn = lint.Cite(lint.SrcPlanCert, "Certificate revocation: the CDP is fixed at issue time; a client that cannot locate the CRL treats the chain as revoked")
	citeCAKU       = lint.Cite(lint.SrcRFC5280, "4.2.1.3 keyCertSign and cRLSign on CA certificates; 4.2.1.9 basicConstraints critical")
	citeWebServer  = lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: Web Server template, Server Authentication EKU")
	citeWorkstat   = lint.Cite(lint.SrcPKIReq, "Client certificates: Workstation Authentication template, Client Authentication EKU, Key Usage Digital Signature and Key Encipherment")
	citeLegacyPFX  = lint.Cite(lint.SrcPFXCmd, "Export-PfxCertificate defaults to TripleDES_SHA1; Server 2016 and older cannot read AES-256 PFX")
	citeModernPFX  = lint.Cite(lint.SrcGoP12, "Modern2023: PBES2/AES-256-CBC, SHA-256 MAC, imports on Windows 10 1709 / Server 2019 and later")
)

func init() {
	define(&Profile{
		Role:       RootCA,
		Summary:    "self-signed root CA of the lab hierarchy",
		Template:   "(root CA)",
		IsCA:       true,
		MaxPathLen: -1,
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcPKIReq, "General requirements: SHA-2, RSA keys")}, Allowed: allKeys, Default: RSA2048},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.1.2.6 Subject: CA certificates carry a non-empty subject")}, Rule: NamesCAOnly},
		Validity:   ValiditySpec{Default: 10 * year},
		PFX:        PFXSpec{Needed: false},
	})
	define(&Profile{
		Role:       IssuingCA,
		Summary:    "issuing (intermediate) CA signed by the root; signs every lab leaf and its own CRL",
		Template:   "Subordinate Certification Authority",
		IsCA:       true,
		MaxPathLen: 0,
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcPKIReq, "General requirements: SHA-2, RSA keys")}, Allowed: allKeys, Default: RSA2048},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.1.2.6 Subject: CA certificates carry a non-empty subject")}, Rule: NamesCAOnly},
		Validity:   ValiditySpec{Default: 5 * year},
		Revocation: RevocationSpec{Spec: Spec{Cite: citeCDPBakedIn}, CDP: true, AIA: true, OCSP: true},
		PFX:        PFXSpec{Needed: false},
	})
	define(&Profile{
		Role:     CMGServer,
		Summary:  "CMG server authentication certificate; its CN is the CMG service name",
		Template: "Web Server (private key exportable)",
		KeyUsage: KeyUsageSpec{
			Spec:     Spec{Cite: lint.Cite(lint.SrcExPKI, "Web Server template defaults"), Note: "UNCONFIRMED: Microsoft does not state a Key Usage for the CMG cert; Web Server template defaults apply"},
			Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		},
		EKU:  EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcSAC, "CMG server authentication certificate: Server Authentication")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		Keys: KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcSAC, "Key length 2048 or 4096 bits; with CNG clients support only RSA")}, Allowed: cmgRSAKeys, Default: RSA2048},
		Names: NameSpec{
			Spec:          Spec{Cite: lint.Cite(lint.SrcSAC, "CMG service name: the certificate CN"), Note: "SAN dNSName = CN is the safe choice; Microsoft names only the CN (UNCONFIRMED)"},
			Rule:          NamesFQDN,
			AllowWildcard: true,
			MinDNSNames:   1,
		},
		Validity:   ValiditySpec{Default: year},
		Revocation: RevocationSpec{Spec: Spec{Cite: citeCDPBakedIn}, CDP: true, AIA: true, OCSP: true},
		PFX:        PFXSpec{Spec: Spec{Cite: citeLegacyPFX, Note: "the CMG wizard host's PFX import API is UNCONFIRMED; 3DES imports everywhere"}, Needed: true, DefaultFormat: "legacy"},
	})
	define(&Profile{
		Role:     MPHTTPS,
		Summary:  "HTTPS certificate of an IIS site system (management point, DP, SUP) with intranet and internet FQDNs",
		Template: "Web Server",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcExPKI, "Web Server template defaults")}, Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		EKU:      EKUSpec{Spec: Spec{Cite: citeWebServer}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcCNG, "With CNG certificates clients support only RSA")}, Allowed: rsaKeys, Default: RSA2048},
		Names: NameSpec{
			Spec:        Spec{Cite: lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: intranet FQDN and internet FQDN in Subject or SAN")},
			Rule:        NamesFQDN,
			MinDNSNames: 1,
		},
		Validity:   ValiditySpec{Default: year},
		Revocation: RevocationSpec{Spec: Spec{Cite: citeCDPBakedIn}, CDP: true, AIA: true, OCSP: true},
		PFX:        PFXSpec{Spec: Spec{Cite: citeModernPFX}, Needed: true, DefaultFormat: "modern"},
	})
	define(&Profile{
		Role:     CMGConnectionPoint,
		Summary:  "client-auth certificate of the CMG connection point server (needed when clients use PKI and the MP is HTTPS)",
		Template: "Workstation Authentication",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcKB, "The connection point filters certificates on digital-signature Key Usage, then client-auth EKU")}, Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		EKU:      EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "CMG connection point: client authentication certificate")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "Client authentication certificates for CMG: 2048 or 4096 bits")}, Allowed: cmgRSAKeys, Default: RSA2048},
		Names: NameSpec{
			Spec:        Spec{Cite: lint.Cite(lint.SrcPKIReq, "Client certificates: unique value in Subject or SAN")},
			Rule:        NamesFQDN,
			MinDNSNames: 1,
		},
		Validity:   ValiditySpec{Default: year},
		Revocation: RevocationSpec{Spec: Spec{Cite: citeCDPBakedIn}, CDP: true, AIA: true, OCSP: true},
		PFX:        PFXSpec{Spec: Spec{Cite: citeModernPFX}, Needed: true, DefaultFormat: "modern"},
	})
	define(&Profile{
		Role:       PKIClient,
		Summary:    "Windows PKI client-auth certificate (computer Personal store)",
		Template:   "Workstation Authentication",
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeWorkstat}, Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		EKU:        EKUSpec{Spec: Spec{Cite: citeWorkstat}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "Client authentication certificates for CMG: 2048 or 4096 bits")}, Allowed: cmgRSAKeys, Default: RSA2048},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcPKIReq, "Client certificates: Subject contains the local computer name (FQDN), unique Subject or SAN")}, Rule: NamesFQDN, MinDNSNames: 1},
		Validity:   ValiditySpec{Default: year},
		Revocation: RevocationSpec{Spec: Spec{Cite: lint.Cite(lint.SrcPlanCert, "IIS always checks the CRL of client certificates")}, CDP: true, AIA: true, OCSP: true},
		PFX:        PFXSpec{Spec: Spec{Cite: citeModernPFX}, Needed: true, DefaultFormat: "modern"},
	})
	define(&Profile{
		Role:       WPJCA,
		Summary:    "MS-Organization-Access-style CA that issues Entra (WPJ) device certificates",
		Template:   "(Entra device registration service)",
		IsCA:       true,
		MaxPathLen: 0,
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example: RSA 2048, sha256RSA")}, Allowed: rsaKeys, Default: RSA2048},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcHDHC, "issuer DC=net + DC=windows + CN=MS-Organization-Access + OU=82dbaca4-...")}, Rule: NamesCAOnly},
		Validity:   ValiditySpec{Default: 20 * year},
		PFX:        PFXSpec{Needed: false},
	})
	define(&Profile{
		Role:     WPJDevice,
		Summary:  "Entra Workplace-Join-style device certificate: CN = device GUID, 1.2.840.113556.1.5.284.* extensions",
		Template: "(Entra device registration service)",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no Key Usage")}, Omit: true},
		EKU:      EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: EKU critical, clientAuth only")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Critical: true},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example: RSA 2048, sha256RSA")}, Allowed: []KeyType{RSA2048}, Default: RSA2048},
		Names:    NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 subject CN = device ID (GUID)")}, Rule: NamesGUID},
		Validity: ValiditySpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example: about 10 years")}, Default: 10 * year},
		Revocation: RevocationSpec{Spec: Spec{
			Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no CDP, AIA, SKI or AKI"),
			Note: "real WPJ certificates carry no revocation pointers, so revocation checks never apply",
		}},
		Extensions: []ExtensionSpec{
			{OID: OIDWPJInvocationID, Name: "NTDS-DSA invocation ID", Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 1.2.840.113556.1.5.284.1")},
			{OID: OIDWPJDeviceID, Name: "device ID", Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 1.2.840.113556.1.5.284.2")},
			{OID: OIDWPJUserID, Name: "user ID", Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 1.2.840.113556.1.5.284.3")},
			{OID: OIDWPJDomainID, Name: "domain ID", Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 1.2.840.113556.1.5.284.4")},
			{OID: OIDWPJJoinType, Name: "join type", Cite: lint.Cite(lint.SrcCUE, "1.2.840.113556.1.5.284.7 join type '0' registered, '1' joined")},
		},
		OmitKeyIDs: true,
		PFX:        PFXSpec{Spec: Spec{Cite: citeModernPFX}, Needed: true, DefaultFormat: "modern"},
	})
	define(&Profile{
		Role:       OCSPSigner,
		Summary:    "delegated OCSP responder certificate (ocspSigning EKU plus id-pkix-ocsp-nocheck)",
		Template:   "OCSP Response Signing",
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 Authorized Responders")}, Required: x509.KeyUsageDigitalSignature},
		EKU:        EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 id-kp-OCSPSigning in the responder certificate")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 Authorized Responders")}, Allowed: allKeys, Default: RSA2048},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.3 ResponderID byName")}, Rule: NamesFreeform},
		Validity:   ValiditySpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 a nocheck responder certificate should be short-lived")}, Default: 90 * day},
		Extensions: []ExtensionSpec{{OID: OIDOCSPNoCheck, Name: "id-pkix-ocsp-nocheck", Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 id-pkix-ocsp-nocheck")}},
		PFX:        PFXSpec{Needed: false},
	})
}
