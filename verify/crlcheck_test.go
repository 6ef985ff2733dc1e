package verify

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// rawCRL signs a CRL built by hand (ECDSA SHA-256), so that the test can
// make what x509.CreateRevocationList refuses: no CRL number, an issuer
// without cRLSign, a critical CRL number.
func rawCRL(t *testing.T, issuer *node, thisUpdate, nextUpdate time.Time, serials []int64, exts ...pkix.Extension) []byte {
	t.Helper()
	var name pkix.RDNSequence
	if _, err := asn1.Unmarshal(issuer.cert.RawSubject, &name); err != nil {
		t.Fatal(err)
	}
	alg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}
	tbs := pkix.TBSCertificateList{Version: 1, Signature: alg, Issuer: name, ThisUpdate: thisUpdate.UTC(), NextUpdate: nextUpdate.UTC(), Extensions: exts}
	for _, s := range serials {
		tbs.RevokedCertificates = append(tbs.RevokedCertificates, pkix.RevokedCertificate{SerialNumber: big.NewInt(s), RevocationTime: thisUpdate.UTC()})
	}
	der, err := asn1.Marshal(tbs)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(der)
	sig, err := issuer.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(pkix.CertificateList{TBSCertList: pkix.TBSCertificateList{Raw: der}, SignatureAlgorithm: alg,
		SignatureValue: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func crlNumberExt(n int64, critical bool) pkix.Extension {
	v, _ := asn1.Marshal(big.NewInt(n))
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 20}, Critical: critical, Value: v}
}

// madeCRL uses x509.CreateRevocationList, which keeps the entries in the
// order given (no sorting, no duplicate check).
func madeCRL(t *testing.T, issuer *node, thisUpdate, nextUpdate time.Time, serials []int64, exts ...pkix.Extension) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: thisUpdate, NextUpdate: nextUpdate, ExtraExtensions: exts}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: thisUpdate})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func findingIDs(r *CRLReport) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID+"="+f.Level.String())
	}
	sort.Strings(ids)
	return strings.Join(ids, " ")
}

func TestCheckCRL(t *testing.T) {
	p := newPKI(t)
	ot := caTmpl("Contoso Issuing") // a dedicated CRL signer: same name and key identifier, its own key
	ot.SubjectKeyId = p.ica.cert.SubjectKeyId
	signer := issue(t, ot, p.root, nil)
	other := issue(t, caTmpl("Contoso Issuing"), p.root, nil) // same name, its own key identifier
	noCRLSign := caTmpl("Contoso Issuing")
	noCRLSign.KeyUsage = x509.KeyUsageCertSign
	noSign := issue(t, noCRLSign, p.root, p.ica.key)
	from, to := at.Add(-time.Hour), at.Add(7*24*time.Hour)
	idp := func(critical bool, content []byte) pkix.Extension {
		return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: critical, Value: tlv(0x30, content)}
	}
	uriIDP := tlv(0xa0, tlv(0xa0, tlv(0x86, []byte("http://pki.contoso.com/issuing.crl"))))
	delta, _ := asn1.Marshal(big.NewInt(6))
	cases := []struct {
		name   string
		der    []byte
		issuer *node
		want   string
		msg    string
	}{
		{"good", madeCRL(t, p.ica, from, to, []int64{3, 5, 9}), p.ica, "", ""},
		{"malformed", []byte("not a CRL"), p.ica, "crl_malformed=error", "does not parse"},
		{"expired", madeCRL(t, p.ica, at.Add(-8*24*time.Hour), at.Add(-time.Hour), nil), p.ica, "crl_expired=error", "nextUpdate " + at.Add(-time.Hour).UTC().Format(timeFmt)},
		{"not_yet_valid", madeCRL(t, p.ica, at.Add(time.Hour), to, nil), p.ica, "crl_not_yet_valid=error", "thisUpdate " + at.Add(time.Hour).UTC().Format(timeFmt)},
		{"expiring_soon", madeCRL(t, p.ica, at.Add(-6*24*time.Hour), at.Add(3*time.Hour), nil), p.ica, "crl_expiring_soon=warn", "3h0m0s after"},
		{"short_validity_not_soon", madeCRL(t, p.ica, at.Add(-time.Hour), at.Add(3*time.Hour), nil), p.ica, "", ""},
		{"dedicated_signer", madeCRL(t, signer, from, to, nil), p.ica, "crl_bad_signature=error", "not by a separate CRL-signing certificate"},
		{"other_key_identifier", madeCRL(t, other, from, to, nil), p.ica, "crl_aki_mismatch=error crl_bad_signature=error", "authority key identifier"},
		{"other_issuer", madeCRL(t, p.root, from, to, nil), p.ica, "crl_aki_mismatch=error crl_bad_signature=error crl_issuer_mismatch=error", "the CRL issuer is"},
		{"issuer_without_crlsign", rawCRL(t, noSign, from, to, nil, crlNumberExt(1, false)), noSign, "crl_issuer_no_crlsign=error", "lacks cRLSign"},
		{"no_number", rawCRL(t, p.ica, from, to, nil), p.ica, "crl_number_missing=error", "no CRL number"},
		{"critical_number", rawCRL(t, p.ica, from, to, nil, crlNumberExt(1, true)), p.ica, "crl_number_critical=error", "critical"},
		{"no_next_update", rawCRL(t, p.ica, from, time.Time{}, nil, crlNumberExt(1, false)), p.ica, "crl_no_next_update=warn", "no nextUpdate"},
		{"idp", madeCRL(t, p.ica, from, to, nil, idp(true, uriIDP)), p.ica, "", ""},
		{"idp_user_only", madeCRL(t, p.ica, from, to, nil, idp(true, append(uriIDP, tlv(0x81, []byte{0xff})...))), p.ica, "", ""},
		{"idp_not_critical", madeCRL(t, p.ica, from, to, nil, idp(false, uriIDP)), p.ica, "crl_idp_not_critical=warn", "not critical"},
		{"idp_indirect", madeCRL(t, p.ica, from, to, nil, idp(true, tlv(0x84, []byte{0xff}))), p.ica, "crl_idp_indirect=warn", "indirect"},
		{"delta", madeCRL(t, p.ica, from, to, nil, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: delta}), p.ica, "crl_delta=notice", "base CRL 6"},
		{"unknown_critical", madeCRL(t, p.ica, from, to, nil, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55738, 1}, Critical: true, Value: []byte{5, 0}}), p.ica, "crl_unknown_critical_extension=error", "1.3.6.1.4.1.55738.1"},
		{"unsorted", madeCRL(t, p.ica, from, to, []int64{9, 3, 5}), p.ica, "crl_unsorted=notice", "Windows does not require it"},
		{"duplicate", madeCRL(t, p.ica, from, to, []int64{3, 26, 26}), p.ica, "crl_duplicate_serial=warn", "1A"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := CheckCRL(tc.der, tc.issuer.cert, at)
			if got := findingIDs(r); got != tc.want {
				t.Fatalf("findings %q, want %q: %+v", got, tc.want, r.Findings)
			}
			if strings.HasPrefix(tc.name, "idp") && (r.IDP == nil || len(r.IDP.URIs)+r.IDP.OtherNames == 0 && !r.IDP.Indirect) {
				t.Fatalf("IDP not described: %+v", r.IDP) // a consistent IDP is no finding, but the report holds it
			}
			if tc.msg != "" {
				all, _ := json.Marshal(r.Findings)
				if !strings.Contains(string(all), tc.msg) {
					t.Fatalf("findings %s do not mention %q", all, tc.msg)
				}
			}
			for _, f := range r.Findings {
				if f.Level == lint.Error && f.ID != "crl_number_missing" && f.ID != "crl_number_critical" && (f.Windows == nil || f.Windows.HRESULT != 0x80092013) {
					t.Errorf("%s: an unusable CRL is revocation offline on a client, got %+v", f.ID, f.Windows)
				}
			}
		})
	}
}

// A CRL that CheckCRL finds errors in is one Chain does not use, and the
// other way round.
func TestCheckCRLAgreesWithChain(t *testing.T) {
	p := newPKI(t)
	for _, der := range [][]byte{
		madeCRL(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour), nil),
		madeCRL(t, p.ica, at.Add(-3*time.Hour), at.Add(-time.Hour), nil),
		rawCRL(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour), nil),
	} {
		rep := CheckCRL(der, p.ica.cert, at)
		o := p.opts()
		o.Revocation, o.CRLs = RevocationEndCert, []*x509.RevocationList{rep.CRL}
		_, err := Chain(p.leaf.cert, o)
		if (rep.Max() >= lint.Error) != (err != nil) {
			t.Errorf("CheckCRL %s, Chain %v", findingIDs(rep), err)
		}
	}
	j, _ := json.Marshal(CheckCRL(madeCRL(t, p.ica, at.Add(-time.Hour), at.Add(10*time.Minute), nil), p.ica.cert, at))
	if !strings.Contains(string(j), `"level":"warn"`) || !strings.Contains(string(j), `"number":"7"`) {
		t.Fatalf("json %s", j)
	}
}
