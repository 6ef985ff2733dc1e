package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// Finding is one result of a check that is not a chain verdict (CheckCRL,
// Endpoint): a stable ID, a level (lint.Error, lint.Warn or lint.Notice,
// rendered error|warn|notice), a message naming the observed and the
// expected value, and the error a Windows client would log where one
// applies.
type Finding struct {
	ID      string        `json:"id"`
	Level   lint.Status   `json:"level"`
	Message string        `json:"message"`
	Windows *WindowsError `json:"windows,omitempty"`
	Fix     string        `json:"fix,omitempty"`
	Source  string        `json:"source,omitempty"`
	// Origin says which check made it, in a Report: input, chain, profile,
	// endpoint, crl or selection.
	Origin string `json:"origin,omitempty"`
}

// maxLevel is the highest level among fs (lint.Pass when there is none).
func maxLevel(fs []Finding) lint.Status {
	m := lint.Pass
	for _, f := range fs {
		if f.Level > m {
			m = f.Level
		}
	}
	return m
}

// CRLReport is what CheckCRL found.
type CRLReport struct {
	Issuer             string     `json:"issuer,omitempty"`
	Number             string     `json:"number,omitempty"`
	ThisUpdate         *time.Time `json:"this_update,omitempty"`
	NextUpdate         *time.Time `json:"next_update,omitempty"`
	SignatureAlgorithm string     `json:"signature_algorithm,omitempty"`
	Entries            int        `json:"entries"`
	IDP                *IDP       `json:"idp,omitempty"`
	// DeltaOf is the base CRL number of a delta CRL.
	DeltaOf  string    `json:"delta_of,omitempty"`
	Findings []Finding `json:"findings"`
	// CRL is the parsed CRL (nil when it does not parse).
	CRL *x509.RevocationList `json:"-"`
}

// Max is the highest level among the findings (lint.Pass when none).
func (r *CRLReport) Max() lint.Status { return maxLevel(r.Findings) }

// CRLExpiryWindow is the longest warning window before a CRL's nextUpdate.
// CheckCRL warns when less than this, or less than a fifth of the CRL's
// validity (thisUpdate to nextUpdate), is left, whichever is shorter.
const CRLExpiryWindow = 24 * time.Hour

const fixPublishCRL = "publish a fresh CRL signed by the issuing CA at the CDP URL"

// CheckCRL checks a DER CRL on its own, as the CRL a Windows client would
// fetch for certificates of issuer, at the time at: parse, signature by the
// issuer itself (CAPI2 refuses CRLs signed by a separate CRL-signing
// certificate, cmg-reference.md §5 [INSTAN]), issuer name, freshness, CRL
// number, issuing distribution point, delta CRL indicator, and the entries
// (order, duplicates). Findings that make a client unable to use the CRL
// carry CRYPT_E_REVOCATION_OFFLINE: that is what the client logs.
//
// With a nil issuer, the signature and the issuer are not checked (a
// notice says so). CheckCRL does not look at which certificates the CRL
// should cover; Chain
// checks a CRL's scope against a certificate's CDP.
func CheckCRL(crlDER []byte, issuer *x509.Certificate, at time.Time) *CRLReport {
	rep := &CRLReport{Findings: []Finding{}}
	offline := &WinRevocationOffline
	add := func(id string, lvl lint.Status, win *WindowsError, fix, src, format string, args ...any) {
		rep.Findings = append(rep.Findings, Finding{ID: id, Level: lvl, Message: fmt.Sprintf(format, args...),
			Windows: win, Fix: fix, Source: src})
	}
	rl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		add("crl_malformed", lint.Error, offline, "serve the CRL as DER (application/pkix-crl)", "RFC 5280 5.1",
			"the CRL does not parse: %v", err)
		return rep
	}
	rep.CRL = rl
	rep.Issuer = certio.DN(rl.RawIssuer)
	rep.ThisUpdate, rep.NextUpdate = tp(rl.ThisUpdate), tp(rl.NextUpdate)
	rep.SignatureAlgorithm = rl.SignatureAlgorithm.String()
	rep.Entries = len(rl.RevokedCertificateEntries)
	if rl.Number != nil {
		rep.Number = rl.Number.String()
	}

	// Issuer: the name, then the key (a dedicated CRL signer has the
	// issuer's name but its own key).
	if issuer != nil {
		if !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
			add("crl_issuer_mismatch", lint.Error, offline, "check that the CRL belongs to this CA", "RFC 5280 6.3.3(b)",
				"the CRL issuer is %q, the CA is %q", certio.DN(rl.RawIssuer), certio.DN(issuer.RawSubject))
		}
		if len(rl.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(rl.AuthorityKeyId, issuer.SubjectKeyId) {
			add("crl_aki_mismatch", lint.Error, offline, "sign the CRL with the issuing CA's own key", "cmg-reference.md §5 [INSTAN]",
				"the CRL's authority key identifier %X is not the CA's subject key identifier %X: it is signed by another key, such as a separate CRL-signing certificate, which CAPI2 refuses",
				rl.AuthorityKeyId, issuer.SubjectKeyId)
		}
		if weak, err := checkSignature(rl.SignatureAlgorithm, rl.RawTBSRevocationList, rl.Signature, issuer); err != nil {
			add("crl_bad_signature", lint.Error, offline, "sign the CRL with the issuing CA's own key", "cmg-reference.md §5 [INSTAN]",
				"the CRL signature does not verify with %s's key (CAPI2 accepts only CRLs signed by the certificate's issuer itself, not by a separate CRL-signing certificate): %v",
				displayName(issuer), err)
		} else if weak {
			add("crl_sha1_signature", lint.Warn, nil, "sign CRLs with SHA-256", "windows-trust.md §1",
				"the CRL is signed with %v", rl.SignatureAlgorithm)
		}
		if hasExt(&certInfo{ext: extMap(issuer)}, oidKU) && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
			add("crl_issuer_no_crlsign", lint.Error, offline, "ask your CA for a CA certificate with the cRLSign key usage", "RFC 5280 4.2.1.3",
				"the key usage of %s lacks cRLSign", displayName(issuer))
		}
	}

	if issuer == nil {
		add("crl_issuer_not_checked", lint.Notice, nil, "give the issuing CA certificate", "",
			"no issuer given: the signature and the issuer name are not checked")
	}

	// Freshness at at, with second precision as encoded.
	t := at.Truncate(time.Second)
	switch {
	case t.Before(rl.ThisUpdate):
		add("crl_not_yet_valid", lint.Error, offline, "check the clocks of the CA and the client (cmg-failures.md F29)", "RFC 5280 5.1.2.4",
			"thisUpdate %s is after the evaluation time %s", rl.ThisUpdate.UTC().Format(timeFmt), t.UTC().Format(timeFmt))
	case rl.NextUpdate.IsZero():
		add("crl_no_next_update", lint.Warn, nil, "issue CRLs with a nextUpdate", "RFC 5280 5.1.2.5",
			"the CRL has no nextUpdate (RFC 5280 requires it): a client cannot tell when it goes stale")
	case t.After(rl.NextUpdate):
		add("crl_expired", lint.Error, offline, fixPublishCRL, "RFC 5280 5.1.2.5",
			"nextUpdate %s is before the evaluation time %s: clients treat the CRL as unavailable", rl.NextUpdate.UTC().Format(timeFmt), t.UTC().Format(timeFmt))
	default:
		window := min(CRLExpiryWindow, rl.NextUpdate.Sub(rl.ThisUpdate)/5)
		if left := rl.NextUpdate.Sub(t); left < window {
			add("crl_expiring_soon", lint.Warn, nil, fixPublishCRL, "RFC 5280 5.1.2.5",
				"nextUpdate %s is %v after the evaluation time: publish the next CRL before then", rl.NextUpdate.UTC().Format(timeFmt), left.Round(time.Second))
		}
	}

	// Extensions.
	var idpCritical bool
	var idpDER []byte
	hasFreshest := false
	for _, e := range rl.Extensions {
		switch id := e.Id.String(); id {
		case oidCRLNumber:
			if e.Critical {
				add("crl_number_critical", lint.Error, nil, "mark the CRL number non-critical", "RFC 5280 5.2.3",
					"the CRL number extension is critical; RFC 5280 requires it non-critical")
			}
		case oidIDP:
			idpCritical, idpDER = e.Critical, e.Value
		case oidDeltaCRL:
			var base *big.Int
			if _, err := asn1.Unmarshal(e.Value, &base); err == nil && base != nil {
				rep.DeltaOf = base.String()
			}
			add("crl_delta", lint.Notice, nil, "", "RFC 5280 5.2.4",
				"a delta CRL (base CRL %s): a client uses it only together with that base CRL", rep.DeltaOf)
		case oidFreshest:
			hasFreshest = true
		default:
			if e.Critical && !knownCRLExt[id] {
				add("crl_unknown_critical_extension", lint.Error, offline, "ask your CA to drop the extension or make it non-critical", "RFC 5280 5.2",
					"unsupported critical extension %s: clients refuse the CRL", id)
			}
		}
	}
	if rl.Number == nil {
		add("crl_number_missing", lint.Error, nil, "issue CRLs with a CRL number", "RFC 5280 5.2.3",
			"the CRL has no CRL number (RFC 5280 requires it in every CRL)")
	}
	if hasFreshest {
		add("crl_freshest", lint.Notice, nil, "", "RFC 5280 5.2.6",
			"the CRL points to delta CRLs (Freshest CRL); Windows fetches them too, this check does not")
	}
	if idpDER != nil {
		idp, err := parseIDP(idpDER)
		if err != nil {
			add("crl_idp_malformed", lint.Error, offline, "", "RFC 5280 5.2.5", "%v", err)
		} else {
			idp.Critical = idpCritical
			rep.IDP = idp
			if !idpCritical {
				add("crl_idp_not_critical", lint.Warn, nil, "mark the IDP critical", "RFC 5280 5.2.5",
					"the issuing distribution point is not critical; RFC 5280 requires it critical")
			}
			switch {
			case idp.Indirect:
				add("crl_idp_indirect", lint.Warn, offline, "publish a direct CRL signed by the issuing CA", "cmg-reference.md §5 [INSTAN]",
					"an indirect CRL: CAPI2 uses only the certificate issuer's own CRL")
			case idp.OnlySomeReasons:
				add("crl_idp_partial", lint.Warn, nil, "publish a complete CRL", "RFC 5280 5.2.5",
					"onlySomeReasons: the CRL does not cover every revocation reason")
			case idp.OnlyAttributeCerts:
				add("crl_idp_attribute_certs", lint.Warn, nil, "", "RFC 5280 5.2.5",
					"onlyContainsAttributeCerts: the CRL covers no public-key certificate")
			}
		}
	}

	// Entries: duplicates and order.
	seen := map[string]int{}
	sorted := true
	var prev *big.Int
	var dups []string
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber == nil {
			continue
		}
		k := e.SerialNumber.Text(16)
		seen[k]++
		if seen[k] == 2 {
			dups = append(dups, strings.ToUpper(k))
		}
		if prev != nil && e.SerialNumber.Cmp(prev) < 0 {
			sorted = false
		}
		prev = e.SerialNumber
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		add("crl_duplicate_serial", lint.Warn, nil, "ask your CA to list each serial once", "RFC 5280 5.1.2.6",
			"serial(s) %s listed more than once", strings.Join(dups, ", "))
	}
	if !sorted {
		add("crl_unsorted", lint.Notice, nil, "", "",
			"the entries are not in ascending serial order; Windows does not require it, some clients search the list by bisection")
	}
	return rep
}
