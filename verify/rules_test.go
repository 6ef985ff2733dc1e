package verify

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lint"
)

// ids lists the finding IDs, sorted.
func ids(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func wantIDs(t *testing.T, fs []Finding, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := ids(fs); !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v\n%+v", got, want, fs)
	}
	for _, f := range fs {
		if f.Fix == "" || f.Source == "" || f.Message == "" {
			t.Errorf("%s: a finding needs a message, a fix and a source: %+v", f.ID, f)
		}
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInputRulesPFX reads real PFX files made by openssl (AES, 3DES, no
// key) and by certio (cmgpki's legacy and modern formats) and checks the
// findings of the input rules.
func TestInputRulesPFX(t *testing.T) {
	p := newPKI(t)
	other := issue(t, leafTmpl("other.contoso.com", "other.contoso.com"), p.ica, nil)
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(p.leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := writePEM(t, dir, "leaf.key", "PRIVATE KEY", keyDER)
	certPath := writePEM(t, dir, "leaf.crt", "CERTIFICATE", p.leaf.cert.Raw)
	icaPath := writePEM(t, dir, "ica.crt", "CERTIFICATE", p.ica.cert.Raw)
	openssl := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		args := append([]string{"pkcs12", "-export", "-in", certPath, "-certfile", icaPath, "-out", out, "-passout", "pass:Secret1!"}, extra...)
		pkitest.MustRun(t, args...)
		return out
	}
	aes := openssl("aes.pfx", "-inkey", keyPath) // OpenSSL 3 default: PBES2 AES-256-CBC
	des := openssl("des.pfx", "-inkey", keyPath, "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1")
	nokey := openssl("nokey.pfx", "-nokeys")
	cmgpkiPFX := func(name string, f certio.PFXFormat) string {
		b, err := certio.EncodePFX(rand.Reader, f, p.leaf.key, p.leaf.cert, []*x509.Certificate{p.ica.cert}, "Secret1!")
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		if err := os.WriteFile(out, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return out
	}
	legacy, modern := cmgpkiPFX("legacy.pfx", certio.PFXLegacy), cmgpkiPFX("modern.pfx", certio.PFXModern)
	otherKey, _ := x509.MarshalPKCS8PrivateKey(other.key)
	otherKeyPath := writePEM(t, dir, "other.key", "PRIVATE KEY", otherKey)
	mismatch := filepath.Join(dir, "mismatch.pfx")
	pkitest.MustRun(t, "pkcs12", "-export", "-in", certPath, "-inkey", keyPath, "-out", mismatch, "-passout", "pass:Secret1!", "-legacy")

	for _, tc := range []struct {
		name     string
		path     string
		password string
		key      string // a key given apart (--key)
		want     []string
		detail   string
	}{
		{"openssl_3des_good", des, "Secret1!", "", nil, ""},
		{"cmgpki_legacy_good", legacy, "Secret1!", "", nil, ""},
		{"openssl_aes", aes, "Secret1!", "", []string{"w_pfx_aes_only"}, "Windows Server 2016 and older"},
		{"cmgpki_modern_aes", modern, "Secret1!", "", []string{"w_pfx_aes_only"}, "AES"},
		{"wrong_password", des, "nope", "", []string{"e_pfx_wrong_password"}, "wrong password"},
		{"wrong_password_aes", aes, "nope", "", []string{"e_pfx_wrong_password", "w_pfx_aes_only"}, "wrong password"},
		{"no_private_key", nokey, "Secret1!", "", []string{"e_pfx_no_private_key", "w_pfx_aes_only"}, "no private key"},
		{"separate_key_mismatch", mismatch, "Secret1!", otherKeyPath, []string{"e_key_mismatch"}, "does not match the certificate"},
		{"pem_with_matching_key", certPath, "", keyPath, nil, ""},
		{"pem_with_other_key", certPath, "", otherKeyPath, []string{"e_key_mismatch"}, "other.key"},
		{"pem_without_key_na", certPath, "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadInput(tc.path, []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			if tc.key != "" {
				k, err := certio.ReadKey(tc.key, nil)
				if err != nil {
					t.Fatal(err)
				}
				s.Key, s.KeyFile = k, filepath.Base(tc.key)
			}
			fs := CheckInput(s, lint.Env{At: at})
			wantIDs(t, fs, tc.want...)
			if tc.detail != "" && !strings.Contains(fs[0].Message, tc.detail) {
				t.Errorf("message %q lacks %q", fs[0].Message, tc.detail)
			}
		})
	}
	if _, err := ReadInput(filepath.Join(dir, "absent.pfx"), nil); err == nil {
		t.Error("a missing file read without error")
	}
	garbage := filepath.Join(dir, "garbage.pfx")
	os.WriteFile(garbage, []byte{0x30, 0x03, 0x02, 0x01, 0x03}, 0o600)
	if _, err := ReadInput(garbage, nil); err == nil {
		t.Error("a malformed PFX is an unreadable input, not a finding")
	}
}

// TestChainRules: complete, incomplete, and complete only through AIA.
func TestChainRules(t *testing.T) {
	srv := newRevServer(t)
	p := newOnlinePKI(t, srv.URL, false)
	srv.set("/ca/ica.cer", p.ica.cert.Raw)
	o := onlineOpts(p)
	o.Revocation = RevocationOff
	r, _ := Chain(p.leaf.cert, o)
	wantIDs(t, CheckChainRules(r, lint.Env{At: at}))

	o.Intermediates = nil
	r, _ = Chain(p.leaf.cert, o)
	fs := CheckChainRules(r, lint.Env{At: at})
	wantIDs(t, fs, "e_chain_incomplete")
	if fs[0].Windows == nil || fs[0].Windows.HRESULT != 0x800B010A || !strings.Contains(fs[0].Message, "no issuer found") {
		t.Errorf("finding %+v", fs[0])
	}

	o.AIAFetch = true
	r, _ = Chain(p.leaf.cert, o)
	fs = CheckChainRules(r, lint.Env{At: at})
	wantIDs(t, fs, "w_chain_complete_only_through_aia")
	if !strings.Contains(fs[0].Message, srv.URL+"/ca/ica.cer") {
		t.Errorf("message %q does not name the AIA URL", fs[0].Message)
	}
}

// TestCompareRenewal: the CN must be byte-identical (F08); other subject
// changes are a warning (F09).
func TestCompareRenewal(t *testing.T) {
	p := newPKI(t)
	renew := func(mut func(*x509.Certificate)) *x509.Certificate {
		tpl := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
		if mut != nil {
			mut(tpl)
		}
		return issue(t, tpl, p.ica, nil).cert
	}
	for _, tc := range []struct {
		name   string
		mut    func(*x509.Certificate)
		want   []string
		detail string
	}{
		{"same_subject", nil, nil, ""},
		{"new_key_and_san_ok", func(c *x509.Certificate) { c.DNSNames = []string{"cmg.contoso.com", "cmg2.contoso.com"} }, nil, ""},
		{"cn_case", func(c *x509.Certificate) { c.Subject.CommonName = "CMG.CONTOSO.COM" }, []string{"e_renewal_cn_changed"}, "differ in letter case"},
		{"cn_other", func(c *x509.Certificate) { c.Subject.CommonName = "cmg2.contoso.com" }, []string{"e_renewal_cn_changed"}, `the new one "cmg2.contoso.com"`},
		{"organization", func(c *x509.Certificate) { c.Subject.Organization = []string{"Fabrikam"} }, []string{"w_renewal_subject_changed"}, "[O=Contoso] to [O=Fabrikam]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := CompareRenewal(p.leaf.cert, renew(tc.mut), lint.Env{At: at})
			wantIDs(t, fs, tc.want...)
			if tc.detail != "" && !strings.Contains(fs[0].Message, tc.detail) {
				t.Errorf("message %q lacks %q", fs[0].Message, tc.detail)
			}
		})
	}
}

// TestCheckCMGTrusted: the root and every intermediate of each client chain
// (F16), and the 1902 limit of 2 roots and 4 intermediates.
func TestCheckCMGTrusted(t *testing.T) {
	p := newPKI(t)
	client := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client01.contoso.com"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, p.ica, nil)
	chain := []*x509.Certificate{client.cert, p.ica.cert, p.root.cert}
	reissuedRoot := issue(t, caTmpl("Contoso Root"), nil, p.root.key) // same subject and key
	var many []*x509.Certificate
	for i := 0; i < 5; i++ {
		many = append(many, issue(t, caTmpl("Contoso Sub "+string(rune('A'+i))), p.root, nil).cert)
	}
	for _, tc := range []struct {
		name    string
		trusted []*x509.Certificate
		chains  [][]*x509.Certificate
		version int
		want    []string
		detail  string
	}{
		{"root_and_intermediate", []*x509.Certificate{p.root.cert, p.ica.cert}, [][]*x509.Certificate{chain}, 0, nil, ""},
		{"reissued_root_counts", []*x509.Certificate{reissuedRoot.cert, p.ica.cert}, [][]*x509.Certificate{chain}, 0, nil, ""},
		{"root_only_F16", []*x509.Certificate{p.root.cert}, [][]*x509.Certificate{chain}, 0, []string{"e_cmg_trusted_intermediate_missing"}, "CN=Contoso Issuing (for CN=client01.contoso.com)"},
		{"intermediate_only", []*x509.Certificate{p.ica.cert}, [][]*x509.Certificate{chain}, 0, []string{"e_cmg_trusted_root_missing"}, "CN=Contoso Root"},
		{"no_client_chains_na", nil, nil, 0, nil, ""},
		{"limit_1902", append([]*x509.Certificate{p.root.cert, p.ica.cert}, many...), [][]*x509.Certificate{chain}, 1902, []string{"e_cmg_trusted_limit"}, "1 root(s) and 6 intermediate(s)"},
		{"limit_not_in_effect_2107", append([]*x509.Certificate{p.root.cert, p.ica.cert}, many...), [][]*x509.Certificate{chain}, 2107, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := CheckCMGTrusted(tc.trusted, tc.chains, lint.Env{At: at, CMVersion: tc.version})
			wantIDs(t, fs, tc.want...)
			if tc.detail != "" && !strings.Contains(fs[0].Message, tc.detail) {
				t.Errorf("message %q lacks %q", fs[0].Message, tc.detail)
			}
		})
	}
}

// TestVerifyRuleMetadata is the lint-the-linter check for this package's
// registries: catalogued citations, fixes, unique names across the
// profiles and verify registries.
func TestVerifyRuleMetadata(t *testing.T) {
	if n := len(Rules()); n < 11 {
		t.Fatalf("only %d verify rules", n)
	}
	for _, m := range Rules() {
		if _, ok := lint.LookupSource(m.Citation.Source); !ok || m.Citation.Section == "" || m.Fix == "" {
			t.Errorf("%s: citation %+v or fix %q missing", m.Name, m.Citation, m.Fix)
		}
		if strings.Contains(strings.ToLower(m.Fix), "cmgpki") {
			t.Errorf("%s: fix mentions cmgpki", m.Name)
		}
	}
}
