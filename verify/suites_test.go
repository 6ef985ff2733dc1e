package verify

import (
	"bufio"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// limboDefaultTime is the evaluation time of limbo cases whose
// validation_time is null (upstream: "now"). Limbo's generated certificates
// are valid from 1970 to 2969, so any fixed time works; the pinned test time
// keeps the run independent of the wall clock.
var limboDefaultTime = pkitest.At

type limboCase struct {
	ID               string   `json:"id"`
	ValidationKind   string   `json:"validation_kind"`
	TrustedCerts     []string `json:"trusted_certs"`
	Intermediates    []string `json:"untrusted_intermediates"`
	Peer             string   `json:"peer_certificate"`
	ValidationTime   *string  `json:"validation_time"`
	ExtendedKeyUsage []string `json:"extended_key_usage"`
	KeyUsage         []string `json:"key_usage"`
	ExpectedResult   string   `json:"expected_result"`
	ExpectedPeerName *struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"expected_peer_name"`
	MaxChainDepth *int     `json:"max_chain_depth"`
	CRLs          []string `json:"crls"`
}

func loadLimbo(t testing.TB) []limboCase {
	t.Helper()
	b, err := os.ReadFile("testdata/limbo-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Testcases []limboCase `json:"testcases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Testcases
}

func pemCerts(s []string) []*x509.Certificate {
	var out []*x509.Certificate
	for _, p := range s {
		blk, _ := pem.Decode([]byte(p))
		if blk == nil {
			continue
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}

var limboKU = map[string]x509.KeyUsage{
	"digitalSignature": x509.KeyUsageDigitalSignature, "contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment": x509.KeyUsageKeyEncipherment, "dataEncipherment": x509.KeyUsageDataEncipherment,
	"keyAgreement": x509.KeyUsageKeyAgreement, "keyCertSign": x509.KeyUsageCertSign, "cRLSign": x509.KeyUsageCRLSign,
	"encipherOnly": x509.KeyUsageEncipherOnly, "decipherOnly": x509.KeyUsageDecipherOnly,
}

// runLimbo verifies one case under policy; it returns "SUCCESS" or
// "FAILURE" and the reason.
func runLimbo(tc limboCase, policy Policy) (string, string) {
	blk, _ := pem.Decode([]byte(tc.Peer))
	if blk == nil {
		return "FAILURE", "peer certificate: no PEM"
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "FAILURE", "peer certificate: " + err.Error()
	}
	opts := ChainOptions{Roots: pemCerts(tc.TrustedCerts), Intermediates: pemCerts(tc.Intermediates), At: limboDefaultTime, Policy: policy}
	if tc.ValidationTime != nil {
		at, err := time.Parse(time.RFC3339Nano, *tc.ValidationTime)
		if err != nil {
			return "FAILURE", "validation_time: " + err.Error()
		}
		opts.At = at
	}
	for _, u := range tc.ExtendedKeyUsage {
		oid, err := ParseUsage(u)
		if err != nil {
			return "FAILURE", err.Error()
		}
		opts.Usages = append(opts.Usages, oid)
	}
	if len(opts.Usages) == 0 {
		// A TLS client asks for serverAuth, a TLS server for clientAuth.
		if tc.ValidationKind == "CLIENT" {
			opts.Usages = append(opts.Usages, EKUClientAuth)
		} else {
			opts.Usages = append(opts.Usages, EKUServerAuth)
		}
	}
	for _, k := range tc.KeyUsage {
		opts.KeyUsage |= limboKU[k]
	}
	if tc.ExpectedPeerName != nil {
		opts.Name = tc.ExpectedPeerName.Value
	}
	if tc.MaxChainDepth != nil {
		// limbo counts intermediates; MaxDepth counts leaf and anchor too.
		opts.MaxDepth = *tc.MaxChainDepth + 2
	}
	for _, p := range tc.CRLs {
		blk, _ := pem.Decode([]byte(p))
		if blk == nil {
			continue
		}
		if rl, err := x509.ParseRevocationList(blk.Bytes); err == nil {
			opts.CRLs = append(opts.CRLs, rl)
		}
	}
	if len(tc.CRLs) > 0 {
		opts.Revocation = RevocationChainExcludeRoot
	}
	if _, err := Chain(leaf, opts); err != nil {
		return "FAILURE", err.Error()
	}
	return "SUCCESS", ""
}

// loadDivergences reads a divergence list: "id  reason" per line, # comments.
func loadDivergences(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: %s has no reason", path, id)
		}
		m[id] = strings.TrimSpace(reason)
	}
	return m
}

// TestLimbo runs the chain verifier over every x509-limbo case of the subset
// and compares with the expected result. Known divergences are listed with
// their reasons in testdata/limbo-divergences.txt; a case that newly passes
// or newly fails against that list fails the test.
//
// The suites measure RFC 5280 conformance, so they run with PolicyRFC5280.
// The verify commands use PolicyWindows, which differs in exactly one rule:
// a certificate that is not self-signed and has no authority key identifier
// is accepted with the warning aki_missing instead of failing as malformed
// (CryptoAPI builds such a chain by issuer name). TestSuitesWindowsPolicy
// runs both suites with PolicyWindows and checks that the cases whose
// verdict changes are exactly those of testdata/windows-policy-divergences.txt.
func TestLimbo(t *testing.T) {
	cases := loadLimbo(t)
	div := loadDivergences(t, "testdata/limbo-divergences.txt")
	conformant := 0
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.ID] = true
		got, why := runLimbo(tc, PolicyRFC5280)
		ok := got == tc.ExpectedResult
		if ok {
			conformant++
		}
		reason, listed := div[tc.ID]
		switch {
		case ok && listed:
			t.Errorf("%s: now conformant (%s); remove it from limbo-divergences.txt", tc.ID, got)
		case !ok && !listed:
			t.Errorf("%s: got %s, want %s: %s", tc.ID, got, tc.ExpectedResult, why)
		case !ok && testing.Verbose():
			t.Logf("divergence %s: got %s (%s); listed: %s", tc.ID, got, why, reason)
		}
	}
	for id := range div {
		if !seen[id] {
			t.Errorf("limbo-divergences.txt lists %s, which is not in the suite", id)
		}
	}
	t.Logf("limbo: %d/%d conformant, %d listed divergences", conformant, len(cases), len(div))
	if conformant < 150 {
		t.Errorf("limbo: %d conformant, target 150", conformant)
	}
}

func BenchmarkLimbo(b *testing.B) {
	cases := loadLimbo(b)
	b.ResetTimer()
	for b.Loop() {
		for _, tc := range cases {
			runLimbo(tc, PolicyRFC5280)
		}
	}
}

type betterTLSDoc struct {
	TrustRoot  string `json:"trustRoot"`
	ExportedAt string `json:"exportedAt"`
	Suites     map[string]struct {
		TestCases []struct {
			ID               int      `json:"id"`
			Certificates     []string `json:"certificates"`
			Hostname         string   `json:"hostname"`
			Expected         string   `json:"expected"`
			FailureIsWarning bool     `json:"failureIsWarning"`
			RequiredFeatures []string `json:"requiredFeatures"`
		} `json:"testCases"`
	} `json:"suites"`
}

// betterTLSCase is one applicable BetterTLS case.
type betterTLSCase struct {
	ID       string
	Certs    []*x509.Certificate
	Hostname string
	Expected string
	Features []string
}

// loadBetterTLS returns the trust root, the evaluation time (exportedAt)
// and the applicable cases. Cases marked failureIsWarning (BetterTLS: "a
// failure is only a warning", the name-constraint cases where the host name
// is in the CN only or RFC 5280 leaves room) do not apply.
func loadBetterTLS(t *testing.T) (*x509.Certificate, time.Time, []betterTLSCase) {
	t.Helper()
	b, err := os.ReadFile("testdata/bettertls-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc betterTLSDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, doc.ExportedAt)
	if err != nil {
		t.Fatal(err)
	}
	rootDER, _ := base64.StdEncoding.DecodeString(doc.TrustRoot)
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	var out []betterTLSCase
	for _, name := range []string{"pathbuilding", "nameconstraints"} {
		for _, tc := range doc.Suites[name].TestCases {
			if tc.FailureIsWarning {
				continue
			}
			c := betterTLSCase{ID: name + "/" + itoa(tc.ID), Hostname: tc.Hostname, Expected: tc.Expected, Features: tc.RequiredFeatures}
			for _, s := range tc.Certificates {
				der, _ := base64.StdEncoding.DecodeString(s)
				if cert, err := x509.ParseCertificate(der); err == nil {
					c.Certs = append(c.Certs, cert)
				}
			}
			out = append(out, c)
		}
	}
	return root, at, out
}

// runBetterTLS verifies one case under policy: "ACCEPT" or "REJECT" and
// the reason.
func runBetterTLS(root *x509.Certificate, at time.Time, tc betterTLSCase, policy Policy) (string, string) {
	if len(tc.Certs) == 0 {
		return "REJECT", "no leaf"
	}
	// BetterTLS models the public web PKI: SHA-1 is refused there, as
	// Windows does under Microsoft's public roots.
	_, err := Chain(tc.Certs[0], ChainOptions{Roots: []*x509.Certificate{root}, Intermediates: tc.Certs[1:],
		At: at, Usages: []asn1OID{EKUServerAuth}, Name: tc.Hostname, RejectSHA1: true, Policy: policy})
	if err != nil {
		return "REJECT", err.Error()
	}
	return "ACCEPT", ""
}

// TestBetterTLS runs every applicable BetterTLS case of the subset at
// exportedAt with PolicyRFC5280 (see TestLimbo); all must conform.
func TestBetterTLS(t *testing.T) {
	root, at, cases := loadBetterTLS(t)
	div := loadDivergences(t, "testdata/bettertls-divergences.txt")
	conformant := 0
	for _, tc := range cases {
		got, why := runBetterTLS(root, at, tc, PolicyRFC5280)
		ok := got == tc.Expected
		if ok {
			conformant++
		}
		_, listed := div[tc.ID]
		switch {
		case ok && listed:
			t.Errorf("%s: now conformant; remove it from bettertls-divergences.txt", tc.ID)
		case !ok && !listed:
			t.Errorf("%s %v: got %s, want %s: %s", tc.ID, tc.Features, got, tc.Expected, why)
		}
	}
	t.Logf("bettertls: %d/%d applicable cases conformant, %d listed divergences", conformant, len(cases), len(div))
}

// TestSuitesWindowsPolicy runs limbo and BetterTLS with PolicyWindows, the
// policy of the verify commands, and compares each verdict with the strict
// one. The cases whose verdict changes must be exactly those listed in
// testdata/windows-policy-divergences.txt, each because a certificate of the
// path lacks an authority key identifier: in strict mode that case fails
// with "no authority key identifier", in Windows mode it passes with the
// warning aki_missing. Any other change means the two policies differ in
// more than the documented rule.
func TestSuitesWindowsPolicy(t *testing.T) {
	div := loadDivergences(t, "testdata/windows-policy-divergences.txt")
	changed := map[string]bool{}
	check := func(id, strict, strictWhy, windows, want string) {
		if strict == windows {
			return
		}
		changed[id] = true
		if _, listed := div[id]; !listed {
			t.Errorf("%s: verdict changes under PolicyWindows (%s -> %s) but is not in windows-policy-divergences.txt: %s", id, strict, windows, strictWhy)
			return
		}
		if !strings.Contains(strictWhy, "no authority key identifier") {
			t.Errorf("%s: strict verdict %s is not the missing-AKI rule: %s", id, strict, strictWhy)
		}
		if strict == want {
			t.Logf("%s: conformant strictly (%s), %s under PolicyWindows", id, strict, windows)
		}
	}
	limboConf, limboWin := 0, 0
	cases := loadLimbo(t)
	for _, tc := range cases {
		s, sWhy := runLimbo(tc, PolicyRFC5280)
		w, _ := runLimbo(tc, PolicyWindows)
		if s == tc.ExpectedResult {
			limboConf++
		}
		if w == tc.ExpectedResult {
			limboWin++
		}
		check(tc.ID, s, sWhy, w, tc.ExpectedResult)
	}
	root, at, bcases := loadBetterTLS(t)
	btConf, btWin := 0, 0
	for _, tc := range bcases {
		s, sWhy := runBetterTLS(root, at, tc, PolicyRFC5280)
		w, _ := runBetterTLS(root, at, tc, PolicyWindows)
		if s == tc.Expected {
			btConf++
		}
		if w == tc.Expected {
			btWin++
		}
		check("bettertls/"+tc.ID, s, sWhy, w, tc.Expected)
	}
	for id := range div {
		if !changed[id] {
			t.Errorf("windows-policy-divergences.txt lists %s, whose verdict does not change", id)
		}
	}
	t.Logf("limbo: %d/%d conformant strict (PolicyRFC5280), %d/%d with PolicyWindows", limboConf, len(cases), limboWin, len(cases))
	t.Logf("bettertls: %d/%d strict, %d/%d with PolicyWindows", btConf, len(bcases), btWin, len(bcases))
	t.Logf("%d cases change verdict between the policies", len(changed))
}

type asn1OID = asn1.ObjectIdentifier

func itoa(i int) string { return strconv.Itoa(i) }
