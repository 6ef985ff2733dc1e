package verify

import (
	"sort"
	"strings"
	"sync"

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// CatalogueEntry describes a finding that verify reports by itself, outside
// the rule registries (profiles.Rules, RuleSets): the chain verdict per
// Reason, the chain's warnings and notices, the input, a TLS endpoint, a
// CRL checked on its own and a client certificate selection. Every finding
// of a Report is either a registered rule or an entry of Catalogue; a
// finding without a fix, source or Windows error gets the entry's.
type CatalogueEntry struct {
	ID string
	// Subject groups the entries as "rules list" does: input, chain,
	// endpoint, crl or selection.
	Subject string
	Level   lint.Status
	// Description says what is checked.
	Description string
	// Source is the document and section stating the behaviour, as in
	// Finding.Source.
	Source string
	// Fix is a one-line fix for any certificate.
	Fix string
	// Windows is the error a client logs when the finding is an error
	// (nil: no client error, or none a client would log).
	Windows *WindowsError
}

const (
	srcChainStatus = "windows-trust.md §2"
	srcGoWindows   = "windows-trust.md §1"
	srcRevocation  = "cmg-reference.md §5"
)

// reasonText says what each chain reason checks, for the catalogue.
var reasonText = map[Reason]string{
	ReasonMalformed:         "every certificate of the path follows the RFC 5280 encoding rules (serial, version, empty subject, SAN, AKI/SKI where required)",
	ReasonBadSignature:      "every signature of the path verifies with its issuer's key and uses an algorithm Windows accepts",
	ReasonPartialChain:      "an issuer is found for every certificate, up to a root (CAPI2 IS_PARTIAL_CHAIN)",
	ReasonUntrustedRoot:     "the path ends at a root in the client's trusted root store (CAPI2 IS_UNTRUSTED_ROOT)",
	ReasonTooDeep:           "the path is no longer than the maximum depth",
	ReasonBasicConstraints:  "every issuer is a CA (basic constraints cA=TRUE, keyCertSign) within its path length",
	ReasonNameConstraints:   "every name is permitted by the name constraints of the CAs above it",
	ReasonInvalidExtension:  "no unsupported critical extension, and each extension marked critical as RFC 5280 requires",
	ReasonExpired:           "no certificate of the path has expired at the evaluation time (CAPI2 IS_NOT_TIME_VALID)",
	ReasonNotYetValid:       "no certificate of the path starts its validity after the evaluation time (CAPI2 IS_NOT_TIME_VALID)",
	ReasonRevoked:           "no certificate of the path is listed by its issuer's CRL or OCSP responder (CAPI2 IS_REVOKED)",
	ReasonWrongUsage:        "the required enhanced key usages are allowed through the whole path, as CryptoAPI nests them (CAPI2 IS_NOT_VALID_FOR_USAGE)",
	ReasonRevocationOffline: "the revocation status of every certificate checked could be fetched (CAPI2 IS_OFFLINE_REVOCATION)",
	ReasonNoRevocationCheck: "every certificate checked has a CDP or an OCSP URL, or a CRL was supplied (CAPI2 REVOCATION_STATUS_UNKNOWN)",
	ReasonNameMismatch:      "the leaf is valid for the expected host name: a DNS name of the SAN, or the CN when there is none",
}

// chainReasons lists every Reason, in the order of the constants.
var chainReasons = []Reason{ReasonMalformed, ReasonBadSignature, ReasonPartialChain, ReasonUntrustedRoot, ReasonTooDeep,
	ReasonBasicConstraints, ReasonNameConstraints, ReasonInvalidExtension, ReasonExpired, ReasonNotYetValid, ReasonRevoked,
	ReasonWrongUsage, ReasonRevocationOffline, ReasonNoRevocationCheck, ReasonNameMismatch}

func winp(w WindowsError) *WindowsError { return &w }

var catalogueOnce = sync.OnceValue(func() map[string]CatalogueEntry {
	var es []CatalogueEntry
	for _, r := range chainReasons {
		es = append(es, CatalogueEntry{ID: "chain_" + string(r), Subject: "chain", Level: lint.Error, Description: reasonText[r],
			Source: srcChainStatus, Fix: r.Fix(), Windows: winp(r.Windows())})
	}
	es = append(es,
		// Chain warnings and notices.
		CatalogueEntry{ID: "sha1_signature", Subject: "chain", Level: lint.Warn,
			Description: "a certificate of the path is signed with SHA-1: Windows accepts it under an enterprise root (not under a public root); ConfigMgr requires SHA-2",
			Source:      srcGoWindows + "; cmg-failures.md F13", Fix: "ask your CA for certificates signed with SHA-256"},
		CatalogueEntry{ID: "aki_missing", Subject: "chain", Level: lint.Warn,
			Description: "a certificate has no authority key identifier: Windows builds the chain by name; strict RFC 5280 verifiers refuse it",
			Source:      "RFC 5280 4.2.1.1; " + srcGoWindows, Fix: "ask your CA to include the authority key identifier in the certificates it issues"},
		CatalogueEntry{ID: "complete_only_through_aia", Subject: "chain", Level: lint.Warn,
			Description: "the chain is complete only with issuers fetched from AIA caIssuers URLs: Windows fetches them, other clients do not",
			Source:      srcGoWindows + "; cmg-failures.md F15", Fix: "install the intermediate CA certificate on the clients or send it with the certificate"},
		CatalogueEntry{ID: "cn_fallback", Subject: "chain", Level: lint.Warn,
			Description: "the expected name matches only the subject CN (no DNS name in the SAN): Windows accepts it, other clients do not",
			Source:      srcGoWindows, Fix: "ask your CA for a certificate with the host name in the Subject Alternative Name"},
		CatalogueEntry{ID: "revocation_off", Subject: "chain", Level: lint.Notice,
			Description: "revocation was not checked (--no-crl-check); a ConfigMgr client checks it by default",
			Source:      NoticeRevocationOff.Source, Fix: "check revocation as the clients will (--crl-check) before the rollout"},
		CatalogueEntry{ID: "revocation_not_checked_for_role", Subject: "chain", Level: lint.Notice,
			Description: "the role's relying parties do not check the revocation of this certificate (a WPJ device certificate, a delegated OCSP responder); the rest of the chain is checked",
			Source:      srcRevocation, Fix: "none needed: the certificate's own revocation is not checked by its relying parties"},
		// Input.
		CatalogueEntry{ID: "key_not_checked", Subject: "input", Level: lint.Notice,
			Description: "the private key in the file is encrypted and no password was given, so it was not checked against the certificate",
			Source:      "cmg-reference.md §9", Fix: "give the password (--password-file or CMGPKI_PFX_PASSWORD) to check the key"},
		CatalogueEntry{ID: "cmg_trusted_not_applicable", Subject: "input", Level: lint.Notice,
			Description: "--cmg-trusted checks the chains of PKI client certificates, the only ones that authenticate to the CMG with a certificate",
			Source:      "cmg-reference.md §1 (CMG trusted client roots); cmg-failures.md F16",
			Fix:         "none needed: give --cmg-trusted with a PKI client certificate (pki-client, or --profile none --eku clientAuth)"},
		// Endpoint.
		CatalogueEntry{ID: "endpoint_unreachable", Subject: "endpoint", Level: lint.Error,
			Description: "a TCP connection to the endpoint can be opened", Source: "cmg-failures.md F36",
			Fix: "check the address, the port and the firewall"},
		CatalogueEntry{ID: "tls_version_unsupported", Subject: "endpoint", Level: lint.Error,
			Description: "the endpoint speaks TLS 1.2 or later", Source: "cmg-failures.md F30, F31",
			Fix: "enable TLS 1.2 on the server (a CMG requires it; clients may disable older versions)"},
		CatalogueEntry{ID: "tls_handshake_failed", Subject: "endpoint", Level: lint.Error,
			Description: "the TLS handshake with the endpoint completes", Source: "cmg-failures.md F19, F21",
			Fix: "check the server's TLS configuration and certificate binding"},
		CatalogueEntry{ID: "client_cert_requested", Subject: "endpoint", Level: lint.Notice,
			Description: "the server asked for a client certificate and none was given (--client-cert)", Source: "cmg-failures.md F21",
			Fix: "give the client certificate with --client-cert to test mutual TLS"},
		CatalogueEntry{ID: "no_certificate", Subject: "endpoint", Level: lint.Error,
			Description: "the server presents a certificate", Source: "cmg-failures.md F19",
			Fix: "bind a certificate to the site"},
		CatalogueEntry{ID: "root_sent", Subject: "endpoint", Level: lint.Notice,
			Description: "the server sends its root; harmless: clients anchor on their own root store", Source: "RFC 5246 7.4.2",
			Fix: "none needed; the server may leave the root out of the chain it sends"},
		CatalogueEntry{ID: "presented_out_of_order", Subject: "endpoint", Level: lint.Notice,
			Description: "the server sends its chain leaf first, each certificate followed by its issuer", Source: "RFC 5246 7.4.2",
			Fix: "send the chain leaf first, each certificate followed by its issuer"},
		CatalogueEntry{ID: "missing_intermediate", Subject: "endpoint", Level: lint.Error,
			Description: "the server sends the intermediate CA certificates its certificate needs (an error when the client cannot complete the chain, a warning when it can from its own store or AIA)",
			Source:      "cmg-failures.md F15; " + srcGoWindows, Fix: "configure the server to send its intermediate CA certificate(s) with its certificate"},
		// Selection.
		CatalogueEntry{ID: "selection_none", Subject: "selection", Level: lint.Error,
			Description: "the client selects a PKI certificate by the ConfigMgr selection order", Source: SourcePlanCert + "; cmg-failures.md F32, F33",
			Fix: "give the client a certificate that passes every step (see each candidate's exclusion)"},
		CatalogueEntry{ID: "criteria_spaces", Subject: "selection", Level: lint.Warn,
			Description: "the selection criteria have spaces around the separators, which the client does not trim", Source: SourcePlanCert + "; cmg-failures.md F33",
			Fix: "write the criteria without spaces around ':' and ';'"},
	)
	off := winp(WinRevocationOffline)
	crl := func(id string, lvl lint.Status, win *WindowsError, src, fix, desc string) CatalogueEntry {
		return CatalogueEntry{ID: id, Subject: "crl", Level: lvl, Windows: win, Source: src, Fix: fix, Description: desc}
	}
	es = append(es,
		crl("crl_malformed", lint.Error, off, "RFC 5280 5.1", "serve the CRL as DER (application/pkix-crl)", "the CRL parses as a DER X.509 CRL"),
		crl("crl_issuer_mismatch", lint.Error, off, "RFC 5280 6.3.3(b)", "check that the CRL belongs to this CA", "the CRL's issuer name is the CA's subject"),
		crl("crl_aki_mismatch", lint.Error, off, "cmg-reference.md §5 [INSTAN]", "sign the CRL with the issuing CA's own key", "the CRL's authority key identifier is the CA's subject key identifier (CAPI2 refuses a separate CRL signer)"),
		crl("crl_bad_signature", lint.Error, off, "cmg-reference.md §5 [INSTAN]", "sign the CRL with the issuing CA's own key", "the CRL's signature verifies with the CA's key"),
		crl("crl_sha1_signature", lint.Warn, nil, srcGoWindows, "sign CRLs with SHA-256", "the CRL is signed with SHA-2, not SHA-1"),
		crl("crl_issuer_no_crlsign", lint.Error, off, "RFC 5280 4.2.1.3", "ask your CA for a CA certificate with the cRLSign key usage", "the CA's key usage allows cRLSign"),
		crl("crl_issuer_not_checked", lint.Notice, nil, "RFC 5280 6.3.3", "give the issuing CA certificate (--issuer)", "no issuer was given: the signature and the issuer name were not checked"),
		crl("crl_not_yet_valid", lint.Error, off, "RFC 5280 5.1.2.4; cmg-failures.md F29", "check the clocks of the CA and the client (cmg-failures.md F29)", "thisUpdate is not after the evaluation time"),
		crl("crl_no_next_update", lint.Warn, nil, "RFC 5280 5.1.2.5", "issue CRLs with a nextUpdate", "the CRL has a nextUpdate"),
		crl("crl_expired", lint.Error, off, "RFC 5280 5.1.2.5; cmg-failures.md F02", fixPublishCRL, "nextUpdate is not before the evaluation time"),
		crl("crl_expiring_soon", lint.Warn, nil, "RFC 5280 5.1.2.5", fixPublishCRL, "nextUpdate is not within the expiry window of the evaluation time"),
		crl("crl_number_critical", lint.Error, nil, "RFC 5280 5.2.3", "mark the CRL number non-critical", "the CRL number extension is non-critical"),
		crl("crl_number_missing", lint.Error, nil, "RFC 5280 5.2.3", "issue CRLs with a CRL number", "the CRL has a CRL number"),
		crl("crl_delta", lint.Notice, nil, "RFC 5280 5.2.4", "none needed; supply the base CRL as well", "the CRL is a delta CRL, used only together with its base CRL"),
		crl("crl_freshest", lint.Notice, nil, "RFC 5280 5.2.6", "none needed; Windows fetches the delta CRLs too", "the CRL points to delta CRLs (Freshest CRL), which this check does not fetch"),
		crl("crl_unknown_critical_extension", lint.Error, off, "RFC 5280 5.2", "ask your CA to drop the extension or make it non-critical", "the CRL has no unsupported critical extension"),
		crl("crl_idp_malformed", lint.Error, off, "RFC 5280 5.2.5", "ask your CA for a CRL with a well-formed issuing distribution point", "the issuing distribution point parses"),
		crl("crl_idp_not_critical", lint.Warn, nil, "RFC 5280 5.2.5", "mark the IDP critical", "the issuing distribution point is critical"),
		crl("crl_idp_indirect", lint.Warn, off, "cmg-reference.md §5 [INSTAN]", "publish a direct CRL signed by the issuing CA", "the CRL is not an indirect CRL (CAPI2 uses only the issuer's own CRL)"),
		crl("crl_idp_partial", lint.Warn, nil, "RFC 5280 5.2.5", "publish a complete CRL", "the CRL covers every revocation reason (no onlySomeReasons)"),
		crl("crl_idp_attribute_certs", lint.Warn, nil, "RFC 5280 5.2.5", "publish a CRL that covers public-key certificates", "the CRL covers public-key certificates (not onlyContainsAttributeCerts)"),
		crl("crl_duplicate_serial", lint.Warn, nil, "RFC 5280 5.1.2.6", "ask your CA to list each serial once", "each serial is listed once"),
		crl("crl_unsorted", lint.Notice, nil, "RFC 5280 5.1.2.6", "none needed for Windows; sort the entries by serial for other clients", "the entries are in ascending serial order"),
	)
	m := map[string]CatalogueEntry{}
	for _, e := range es {
		if _, dup := m[e.ID]; dup {
			panic("verify: catalogue entry " + e.ID + " listed twice")
		}
		m[e.ID] = e
	}
	return m
})

// Catalogue returns every finding verify reports outside the rule
// registries, sorted by subject, then ID.
func Catalogue() []CatalogueEntry {
	var out []CatalogueEntry
	for _, e := range catalogueOnce() {
		out = append(out, e)
	}
	order := map[string]int{"input": 0, "chain": 1, "endpoint": 2, "crl": 3, "selection": 4}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return order[out[i].Subject] < order[out[j].Subject]
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// LookupFinding returns the catalogue entry of a finding ID.
func LookupFinding(id string) (CatalogueEntry, bool) {
	e, ok := catalogueOnce()[id]
	return e, ok
}

var registeredRules = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, r := range profiles.Rules().Rules() {
		m[r.Name] = true
	}
	for _, s := range RuleSets() {
		for _, r := range s.Rules {
			m[r.Name] = true
		}
	}
	return m
})

// UnknownFinding, when set, is called for every finding a Report meets
// whose ID is neither in Catalogue nor a registered rule. The tests of
// verify and cmd set it to fail, so that a new finding cannot be added
// without its catalogue entry (and so without its row in docs/rules.md).
var UnknownFinding func(id string)

// fromCatalogue fills the empty fix and source of f from its catalogue
// entry, and its Windows error when f is an error. It reports an ID that
// is neither catalogued nor a registered rule to UnknownFinding.
func fromCatalogue(f Finding) Finding {
	e, ok := LookupFinding(f.ID)
	if !ok {
		if !registeredRules()[f.ID] && UnknownFinding != nil {
			UnknownFinding(f.ID)
		}
		return f
	}
	if f.Fix == "" {
		f.Fix = e.Fix
	}
	if f.Source == "" {
		f.Source = e.Source
	}
	if f.Windows == nil && e.Windows != nil && f.Level >= lint.Error {
		w := *e.Windows
		f.Windows = &w
	}
	return f
}

// Citation is the citation of an entry for "rules list": the document
// (an RFC by its catalogued ID), then the section(s) and further sources.
func (e CatalogueEntry) Citation() lint.Citation {
	first, rest, _ := strings.Cut(e.Source, ";")
	var c lint.Citation
	if sec, ok := strings.CutPrefix(first, "RFC 5280 "); ok {
		c = lint.Cite(lint.SrcRFC5280, sec)
	} else {
		src, sec, _ := strings.Cut(strings.TrimSpace(first), " ")
		c = lint.Citation{Source: lint.SourceID(src), Section: sec}
	}
	if rest != "" {
		c.Section = strings.TrimSpace(c.Section + ";" + rest)
	}
	return c
}
