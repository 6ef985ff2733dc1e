package profiles

import (
	"crypto/x509"

	"github.com/cmgpki/cmgpki/lint"
)

// The requirements below are what Windows and ConfigMgr demand of a role's
// certificate, whoever issues it. What cmgpki issues on top (validity,
// revocation pointers, PFX format, default key, extra key usage bits) is
// ca's recipe (ca/recipe.go).

var (
	// CA keys: Microsoft states no key requirement for CA certificates;
	// CryptoAPI verifies RSA and ECDSA on the NIST curves. UNCONFIRMED, so a
	// CA key outside this is only a warning.
	caKeys = KeySpec{
		Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.1.2.7 Subject Public Key Info"), Confidence: Unconfirmed,
			Note: "Microsoft states no key requirement for CA certificates; Windows CNG verifies RSA and ECDSA P-256, P-384, P-521 (UNCONFIRMED)"},
		RSAMin: 2048, Curves: []string{"P-256", "P-384", "P-521"},
	}
	cmgRSA = []int{2048, 4096}

	citeSHA2      = lint.Cite(lint.SrcPKIReq, "General requirements: SHA-2 signatures; Windows does not trust SHA-1")
	citeCAKU      = lint.Cite(lint.SrcRFC5280, "4.2.1.3 keyCertSign and cRLSign on CA certificates; 4.2.1.9 basicConstraints critical")
	citeWebServer = lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: Web Server template, Server Authentication EKU")
	citeWorkstat  = lint.Cite(lint.SrcPKIReq, "Client certificates: Workstation Authentication template, Client Authentication EKU, Key Usage Digital Signature and Key Encipherment")
	// CitePlanCertRevocation is where ConfigMgr says which certificates its
	// clients and IIS check for revocation.
	CitePlanCertRevocation = lint.Cite(lint.SrcPlanCert, "Certificate revocation: clients check the CRL of site systems by default, IIS always checks client certificates; a client that cannot locate the CRL treats the chain as revoked")
	checked                = RevocationSpec{Spec: Spec{Cite: CitePlanCertRevocation}, Checked: true}
)

func init() {
	define(&Profile{
		Role:       RootCA,
		Summary:    "self-signed root CA of the hierarchy (clients' trusted root store)",
		Template:   "(root CA)",
		IsCA:       true,
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		Keys:       caKeys,
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.1.2.6 Subject: CA certificates carry a non-empty subject")}, Rule: NamesCAOnly},
		Revocation: RevocationSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRevoke, "revocation is checked from the root down; the root itself is trusted by its store, not by a CRL")}},
	})
	define(&Profile{
		Role:       IssuingCA,
		Summary:    "issuing (intermediate) CA signed by the root; signs the leaves and its own CRL",
		Template:   "Subordinate Certification Authority",
		IsCA:       true,
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		Keys:       caKeys,
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.1.2.6 Subject: CA certificates carry a non-empty subject")}, Rule: NamesCAOnly},
		Revocation: checked,
	})
	define(&Profile{
		Role:     CMGServer,
		Summary:  "CMG server authentication certificate; its CN is the CMG service name",
		Template: "Web Server (private key exportable)",
		KeyUsage: KeyUsageSpec{
			Spec:     Spec{Cite: lint.Cite(lint.SrcExPKI, "Web Server template defaults"), Confidence: Unconfirmed, Note: "UNCONFIRMED: Microsoft does not state a Key Usage for the CMG cert; Web Server template defaults apply"},
			Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		},
		EKU:  EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcSAC, "CMG server authentication certificate: Server Authentication")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		Keys: KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcSAC, "Key length 2048 or 4096 bits; with CNG clients support only RSA")}, RSASizes: cmgRSA},
		Names: NameSpec{
			Spec:          Spec{Cite: lint.Cite(lint.SrcSAC, "CMG service name: the certificate CN"), Note: "SAN dNSName = CN is the safe choice; Microsoft names only the CN (UNCONFIRMED)"},
			Rule:          NamesFQDN,
			AllowWildcard: true,
			MinDNSNames:   1,
		},
		Revocation: checked,
	})
	define(&Profile{
		Role:     MPHTTPS,
		Summary:  "HTTPS certificate of an IIS site system (management point, DP, SUP) with intranet and internet FQDNs",
		Template: "Web Server",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcExPKI, "Web Server template defaults"), Confidence: Unconfirmed,
			Note: "UNCONFIRMED: Microsoft states no Key Usage for IIS site systems; Web Server template defaults apply"},
			Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		EKU:  EKUSpec{Spec: Spec{Cite: citeWebServer}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		Keys: KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcCNG, "With CNG certificates clients support only RSA")}, RSAMin: 2048},
		Names: NameSpec{
			Spec:        Spec{Cite: lint.Cite(lint.SrcPKIReq, "Site systems that run IIS: intranet FQDN and internet FQDN in Subject or SAN")},
			Rule:        NamesFQDN,
			MinDNSNames: 1,
		},
		Revocation: checked,
	})
	define(&Profile{
		Role:     CMGConnectionPoint,
		Summary:  "client-auth certificate of the CMG connection point server (needed when clients use PKI and the MP is HTTPS)",
		Template: "Workstation Authentication",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcKB, "The connection point filters certificates on digital-signature Key Usage, then client-auth EKU")}, Required: x509.KeyUsageDigitalSignature},
		EKU:      EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "CMG connection point: client authentication certificate")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "Client authentication certificates for CMG: 2048 or 4096 bits")}, RSASizes: cmgRSA},
		Names: NameSpec{
			Spec:        Spec{Cite: lint.Cite(lint.SrcPKIReq, "Client certificates: unique value in Subject or SAN")},
			Rule:        NamesFQDN,
			MinDNSNames: 1,
		},
		Revocation: checked,
	})
	define(&Profile{
		Role:       PKIClient,
		Summary:    "Windows PKI client-auth certificate (computer Personal store)",
		Template:   "Workstation Authentication",
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: citeWorkstat}, Required: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		EKU:        EKUSpec{Spec: Spec{Cite: citeWorkstat}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcAuth, "Client authentication certificates for CMG: 2048 or 4096 bits")}, RSASizes: cmgRSA},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcPKIReq, "Client certificates: Subject contains the local computer name (FQDN), unique Subject or SAN")}, Rule: NamesFQDN, MinDNSNames: 1},
		Revocation: RevocationSpec{Spec: Spec{Cite: lint.Cite(lint.SrcPlanCert, "IIS always checks the CRL of client certificates")}, Checked: true},
	})
	define(&Profile{
		Role:     WPJCA,
		Summary:  "MS-Organization-Access CA that issues Entra (WPJ) device certificates",
		Template: "(Entra device registration service)",
		IsCA:     true,
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: citeCAKU}, Required: x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example: RSA 2048, sha256RSA"), Confidence: Unconfirmed, Note: "the DRS CA is RSA in every example; other keys are UNCONFIRMED"}, RSAMin: 2048},
		Names:    NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcHDHC, "issuer DC=net + DC=windows + CN=MS-Organization-Access + OU=82dbaca4-...")}, Rule: NamesCAOnly},
		Revocation: RevocationSpec{Spec: Spec{
			Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no CDP, AIA, SKI or AKI"),
			Note: "device certificates carry no revocation pointers, so revocation checks never apply",
		}},
	})
	define(&Profile{
		Role:     WPJDevice,
		Summary:  "Entra Workplace-Join device certificate: CN = device GUID, 1.2.840.113556.1.5.284.* extensions",
		Template: "(Entra device registration service)",
		KeyUsage: KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: no Key Usage")}, Omit: true},
		EKU:      EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example certificate: EKU critical, clientAuth only")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Critical: true},
		Keys:     KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "4.1 example: RSA 2048, sha256RSA")}, RSASizes: []int{2048}},
		Names:    NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcDVRJ, "3.1.5.1.1.3 subject CN = device ID (GUID)")}, Rule: NamesGUID},
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
	})
	define(&Profile{
		Role:       OCSPSigner,
		Summary:    "delegated OCSP responder certificate (ocspSigning EKU plus id-pkix-ocsp-nocheck)",
		Template:   "OCSP Response Signing",
		KeyUsage:   KeyUsageSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC5280, "4.2.1.3 digitalSignature: verifying signatures other than on certificates and CRLs")}, Required: x509.KeyUsageDigitalSignature},
		EKU:        EKUSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 id-kp-OCSPSigning in the responder certificate")}, Required: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
		Keys:       KeySpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2 Authorized Responders"), Confidence: Unconfirmed, Note: "RFC 6960 names no key; RSA and ECDSA as for CAs (UNCONFIRMED)"}, RSAMin: 2048, Curves: []string{"P-256", "P-384", "P-521"}},
		Names:      NameSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.3 ResponderID byName")}, Rule: NamesFreeform},
		Revocation: RevocationSpec{Spec: Spec{Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 id-pkix-ocsp-nocheck: clients do not check the responder's revocation")}},
		Extensions: []ExtensionSpec{{OID: OIDOCSPNoCheck, Name: "id-pkix-ocsp-nocheck", Cite: lint.Cite(lint.SrcRFC6960, "4.2.2.2.1 id-pkix-ocsp-nocheck")}},
	})
}
