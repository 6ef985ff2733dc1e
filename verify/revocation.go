package verify

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cmgpki/cmgpki/internal/certio"
)

// RevocationStatus is the revocation result of one element.
type RevocationStatus string

// Revocation statuses.
const (
	RevGood    RevocationStatus = "good"
	RevRevoked RevocationStatus = "revoked"
	RevUnknown RevocationStatus = "unknown" // offline: no usable CRL
	// RevNoCheck: the certificate has no CDP and no OCSP URL and no CRL of
	// its issuer was supplied (CRYPT_E_NO_REVOCATION_CHECK).
	RevNoCheck RevocationStatus = "no_check"
)

// RevocationResult is the revocation check of one element, as CAPI2 records
// it: the status, the CRL or OCSP response used, and every URL tried.
type RevocationResult struct {
	Status     RevocationStatus `json:"status"`
	Source     string           `json:"source,omitempty"` // "crl" or "ocsp"
	URL        string           `json:"url,omitempty"`    // the URL that answered; empty for a supplied CRL
	CRLIssuer  string           `json:"crl_issuer,omitempty"`
	CRLNumber  string           `json:"crl_number,omitempty"`
	Responder  string           `json:"ocsp_responder,omitempty"` // the OCSP signer's subject
	ThisUpdate *time.Time       `json:"this_update,omitempty"`
	NextUpdate *time.Time       `json:"next_update,omitempty"`
	RevokedAt  *time.Time       `json:"revoked_at,omitempty"`
	ReasonCode int              `json:"reason_code,omitempty"`
	Detail     string           `json:"detail"`
	// Attempts are the OCSP and CDP URLs tried, in order (online checking
	// only; a supplied CRL that answers needs none).
	Attempts []Retrieval `json:"attempts,omitempty"`
}

// checkCRLs looks for cert in the CRLs issued by issuer. A CRL is used only
// when it is signed by the certificate's issuer (CAPI2 refuses CRLs from a
// separate CRL signer), names that issuer, is current at at, is a complete
// base CRL and its IDP scope covers cert.
func checkCRLs(cert, issuer *x509.Certificate, crls []*x509.RevocationList, at time.Time) *RevocationResult {
	var why []string
	var good *RevocationResult
	for _, rl := range crls {
		if rl == nil || !bytes.Equal(rl.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := usableCRL(rl, cert, issuer, at); err != nil {
			why = append(why, fmt.Sprintf("CRL %s of %s: %v", crlLabel(rl), displayName(issuer), err))
			continue
		}
		r := crlVerdict(rl, cert, issuer)
		if r.Status == RevRevoked {
			return r
		}
		if good == nil {
			good = r
		}
	}
	if good != nil {
		return good
	}
	d := fmt.Sprintf("no usable CRL from %s for %s: the revocation server is offline", displayName(issuer), displayName(cert))
	if len(why) > 0 {
		d += " (" + strings.Join(why, "; ") + ")"
	}
	return &RevocationResult{Status: RevUnknown, Detail: d}
}

// crlVerdict looks cert up in a usable CRL of issuer.
func crlVerdict(rl *x509.RevocationList, cert, issuer *x509.Certificate) *RevocationResult {
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			t := e.RevocationTime.UTC()
			return &RevocationResult{Status: RevRevoked, Source: "crl", CRLIssuer: certio.DN(rl.RawIssuer),
				CRLNumber: crlLabel(rl), RevokedAt: &t, ReasonCode: e.ReasonCode,
				ThisUpdate: tp(rl.ThisUpdate), NextUpdate: tp(rl.NextUpdate),
				Detail: fmt.Sprintf("revoked at %s (reason %d) by CRL %s of %s", t.Format(timeFmt), e.ReasonCode, crlLabel(rl), displayName(issuer))}
		}
	}
	return &RevocationResult{Status: RevGood, Source: "crl", CRLIssuer: certio.DN(rl.RawIssuer), CRLNumber: crlLabel(rl),
		ThisUpdate: tp(rl.ThisUpdate), NextUpdate: tp(rl.NextUpdate),
		Detail: fmt.Sprintf("not on CRL %s of %s", crlLabel(rl), displayName(issuer))}
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func crlLabel(rl *x509.RevocationList) string {
	if rl.Number == nil {
		return "(no number)"
	}
	return "#" + rl.Number.String()
}

var knownCRLExt = map[string]bool{oidAKI: true, oidCRLNumber: true, oidIDP: true, oidDeltaCRL: true, oidFreshest: true, oidAIA: true}

func usableCRL(rl *x509.RevocationList, cert, issuer *x509.Certificate, at time.Time) error {
	if len(rl.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(rl.AuthorityKeyId, issuer.SubjectKeyId) {
		return errors.New("authority key identifier does not match the issuer's key")
	}
	if _, err := checkSignature(rl.SignatureAlgorithm, rl.RawTBSRevocationList, rl.Signature, issuer); err != nil {
		return fmt.Errorf("signature does not verify with the issuer's key (CAPI2 accepts only CRLs signed by the certificate's issuer): %v", err)
	}
	if hasExt(&certInfo{ext: extMap(issuer)}, oidKU) && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return errors.New("the issuer's key usage lacks cRLSign")
	}
	if rl.Number == nil {
		return errors.New("no CRL number (RFC 5280 5.2.3)")
	}
	var idp []byte
	for _, e := range rl.Extensions {
		id := e.Id.String()
		if id == oidCRLNumber && e.Critical {
			return errors.New("critical CRL number extension (RFC 5280 5.2.3)")
		}
		if id == oidDeltaCRL {
			return errors.New("a delta CRL, not a base CRL")
		}
		if id == oidIDP {
			idp = e.Value
		}
		if e.Critical && !knownCRLExt[id] {
			return fmt.Errorf("unsupported critical extension %s", id)
		}
	}
	t := at.Truncate(time.Second)
	if t.Before(rl.ThisUpdate) {
		return fmt.Errorf("not yet valid: thisUpdate %s", rl.ThisUpdate.UTC().Format(timeFmt))
	}
	if !rl.NextUpdate.IsZero() && t.After(rl.NextUpdate) {
		return fmt.Errorf("expired: nextUpdate %s", rl.NextUpdate.UTC().Format(timeFmt))
	}
	if idp != nil {
		if err := idpCovers(idp, cert); err != nil {
			return err
		}
	}
	return nil
}

func extMap(c *x509.Certificate) map[string]pkix.Extension {
	m := map[string]pkix.Extension{}
	for _, e := range c.Extensions {
		m[e.Id.String()] = e
	}
	return m
}

// IDP is a CRL's issuing distribution point (RFC 5280 5.2.5): the scope of
// the certificates it covers.
type IDP struct {
	Critical bool `json:"critical"`
	// URIs are the URIs of the fullName distribution point.
	URIs               []string `json:"uris,omitempty"`
	OtherNames         int      `json:"other_names,omitempty"` // non-URI names of the distribution point
	OnlyUserCerts      bool     `json:"only_user_certs,omitempty"`
	OnlyCACerts        bool     `json:"only_ca_certs,omitempty"`
	OnlySomeReasons    bool     `json:"only_some_reasons,omitempty"`
	Indirect           bool     `json:"indirect_crl,omitempty"`
	OnlyAttributeCerts bool     `json:"only_attribute_certs,omitempty"`
}

// parseIDP reads the value of an issuing distribution point extension.
func parseIDP(der []byte) (*IDP, error) {
	bad := errors.New("malformed issuing distribution point")
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad
	}
	idp := &IDP{}
	var dpn cryptobyte.String
	var hasDP bool
	if !seq.ReadOptionalASN1(&dpn, &hasDP, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, bad
	}
	if hasDP {
		var full cryptobyte.String
		var hasFull bool
		if !dpn.ReadOptionalASN1(&full, &hasFull, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return nil, errors.New("malformed IDP distribution point")
		}
		for hasFull && !full.Empty() {
			gn, err := readGeneralName(&full)
			if err != nil {
				return nil, fmt.Errorf("IDP: %v", err)
			}
			if gn.tag == gnURI {
				idp.URIs = append(idp.URIs, string(gn.data))
			} else {
				idp.OtherNames++
			}
		}
		if !hasFull {
			idp.OtherNames++ // nameRelativeToCRLIssuer
		}
	}
	readBool := func(tag int, out *bool) bool {
		var v cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&v, &present, cbasn1.Tag(tag).ContextSpecific()) {
			return false
		}
		*out = present && len(v) == 1 && v[0] != 0
		return true
	}
	var reasons cryptobyte.String
	if !readBool(1, &idp.OnlyUserCerts) || !readBool(2, &idp.OnlyCACerts) ||
		!seq.ReadOptionalASN1(&reasons, &idp.OnlySomeReasons, cbasn1.Tag(3).ContextSpecific()) ||
		!readBool(4, &idp.Indirect) || !readBool(5, &idp.OnlyAttributeCerts) || !seq.Empty() {
		return nil, bad
	}
	return idp, nil
}

// idpCovers checks the scope of a CRL's issuing distribution point against
// cert (RFC 5280 5.2.5, 6.3.3(b)).
func idpCovers(der []byte, cert *x509.Certificate) error {
	idp, err := parseIDP(der)
	if err != nil {
		return err
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	switch {
	case idp.OnlyUserCerts && isCA:
		return errors.New("IDP onlyContainsUserCerts, but the certificate is a CA")
	case idp.OnlyCACerts && !isCA:
		return errors.New("IDP onlyContainsCACerts, but the certificate is not a CA")
	case idp.OnlyAttributeCerts:
		return errors.New("IDP onlyContainsAttributeCerts")
	case idp.Indirect:
		return errors.New("indirect CRL, not supported (CAPI2 uses the issuer's own CRL)")
	case idp.OnlySomeReasons:
		return errors.New("IDP onlySomeReasons: a partial CRL does not cover every reason")
	}
	if len(idp.URIs) > 0 && len(cert.CRLDistributionPoints) > 0 {
		for _, u := range idp.URIs {
			for _, c := range cert.CRLDistributionPoints {
				if u == c {
					return nil
				}
			}
		}
		return fmt.Errorf("IDP scope %v does not include the certificate's CDP %v", idp.URIs, cert.CRLDistributionPoints)
	}
	return nil
}
