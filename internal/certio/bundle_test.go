package certio

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// testPKI is a root, an issuing CA and a leaf (RSA-2048, so that every PFX
// writer accepts it), written as PEM files in dir.
type testPKI struct {
	dir                  string
	root, ica, leaf      *x509.Certificate
	rootKey, icaKey, key crypto.Signer
	crl                  *x509.RevocationList
}

var rsaKeyCache crypto.Signer

func rsaKey(t testing.TB) crypto.Signer {
	t.Helper()
	if rsaKeyCache == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaKeyCache = k
	}
	return rsaKeyCache
}

func ecKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mkCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	c := pkitest.Certificate(t, tmpl, parent, pub, signer)
	return c
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), rootKey: ecKey(t), icaKey: ecKey(t), key: rsaKey(t)}
	nb, na := pkitest.At.Add(-time.Hour), pkitest.At.Add(365*24*time.Hour)
	ca := func(cn string, serial int64) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	p.root = mkCert(t, ca("Test Root", 1), nil, p.rootKey.Public(), p.rootKey)
	p.ica = mkCert(t, ca("Test Issuing", 2), p.root, p.icaKey.Public(), p.rootKey)
	p.leaf = mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "cmg.contoso.com"},
		DNSNames: []string{"cmg.contoso.com"}, NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, p.ica, p.key.Public(), p.icaKey)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: nb, NextUpdate: na,
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(9), RevocationTime: nb}}}, p.ica, p.icaKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.crl, err = x509.ParseRevocationList(der); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := KeyPEM(rand.Reader, p.key, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "leaf.pem", CertPEM(p.leaf))
	p.write(t, "chain.pem", CertPEM(p.leaf, p.ica, p.root))
	p.write(t, "key.pem", keyPEM)
	p.write(t, "crl.der", der)
	p.write(t, "crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	return p
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

func (p *testPKI) write(t testing.TB, name string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(p.path(name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p.path(name)
}

func (p *testPKI) read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(p.path(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cns(certs []*x509.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, c.Subject.CommonName)
	}
	return strings.Join(s, ",")
}

func TestReadBundleTextForms(t *testing.T) {
	p := newTestPKI(t)
	chain := p.read(t, "chain.pem")
	text := pkitest.MustRun(t, "x509", "-in", p.path("leaf.pem"), "-text")
	if !strings.Contains(text, "Certificate:\n") || strings.HasPrefix(text, "-----BEGIN") {
		t.Fatalf("openssl -text output has no text before the PEM block:\n%.200s", text)
	}
	icaText := "Subject: CN=Test Issuing\nsome notes an admin pasted\n"
	trusted := pkitest.MustRun(t, "x509", "-in", p.path("leaf.pem"), "-trustout", "-addtrust", "clientAuth")
	if !strings.Contains(trusted, "-----BEGIN TRUSTED CERTIFICATE-----") {
		t.Fatalf("openssl -trustout wrote no TRUSTED CERTIFICATE:\n%s", trusted)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"chain", chain, "cmg.contoso.com,Test Issuing,Test Root"},
		{"crlf", bytes.ReplaceAll(chain, []byte("\n"), []byte("\r\n")), "cmg.contoso.com,Test Issuing,Test Root"},
		{"bom", append([]byte{0xEF, 0xBB, 0xBF}, chain...), "cmg.contoso.com,Test Issuing,Test Root"},
		{"bom_crlf", append([]byte{0xEF, 0xBB, 0xBF}, bytes.ReplaceAll(chain, []byte("\n"), []byte("\r\n"))...), "cmg.contoso.com,Test Issuing,Test Root"},
		{"openssl_text", []byte(text + icaText + string(CertPEM(p.ica))), "cmg.contoso.com,Test Issuing"},
		{"openssl_trusted", []byte(trusted), "cmg.contoso.com"},
		{"key_and_cert", append(p.read(t, "key.pem"), p.read(t, "leaf.pem")...), "cmg.contoso.com"},
		{"der", p.leaf.Raw, "cmg.contoso.com"},
		{"der_concatenated", append(append([]byte{}, p.leaf.Raw...), p.ica.Raw...), "cmg.contoso.com,Test Issuing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadCertificates(p.write(t, tc.name+".in", tc.data), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := cns(b.Certs); got != tc.want {
				t.Errorf("certificates %s, want %s", got, tc.want)
			}
			if tc.name == "key_and_cert" {
				if b.Key == nil || KeyMatchesCertificate(b.Key, b.Certs[0]) != nil {
					t.Errorf("key not read or not matching")
				}
			}
		})
	}
}

func TestReadBundlePKCS7(t *testing.T) {
	p := newTestPKI(t)
	derOut := pkitest.MustRun(t, "crl2pkcs7", "-nocrl", "-certfile", p.path("chain.pem"), "-outform", "DER", "-out", p.path("chain.p7b"))
	_ = derOut
	pkitest.MustRun(t, "crl2pkcs7", "-nocrl", "-certfile", p.path("chain.pem"), "-out", p.path("chain-pem.p7b"))
	pkitest.MustRun(t, "crl2pkcs7", "-in", p.path("crl.pem"), "-certfile", p.path("leaf.pem"), "-outform", "DER", "-out", p.path("withcrl.p7b"))
	// A PKCS#7 under a CERTIFICATE label, as some Windows exports write it.
	p7 := p.read(t, "chain.p7b")
	p.write(t, "relabelled.p7b", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p7}))
	pemP7 := p.read(t, "chain-pem.p7b")
	if !bytes.Contains(pemP7, []byte("-----BEGIN PKCS7-----")) {
		t.Fatalf("openssl wrote no PKCS7 PEM:\n%s", pemP7)
	}
	for _, tc := range []struct {
		file   string
		format Format
		certs  string
		crls   int
	}{
		{"chain.p7b", FormatPKCS7, "cmg.contoso.com,Test Issuing,Test Root", 0},
		{"chain-pem.p7b", FormatPEM, "cmg.contoso.com,Test Issuing,Test Root", 0},
		{"relabelled.p7b", FormatPEM, "cmg.contoso.com,Test Issuing,Test Root", 0},
		{"withcrl.p7b", FormatPKCS7, "cmg.contoso.com", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := ReadBundle(p.path(tc.file), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if b.Format != tc.format || cns(b.Certs) != tc.certs || len(b.CRLs) != tc.crls {
				t.Errorf("got %s %q %d CRLs, want %s %q %d", b.Format, cns(b.Certs), len(b.CRLs), tc.format, tc.certs, tc.crls)
			}
		})
	}
}

func TestReadBundleCRL(t *testing.T) {
	p := newTestPKI(t)
	for _, f := range []string{"crl.der", "crl.pem"} {
		crls, err := ReadCRLs(p.path(f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(crls) != 1 || crls[0].Number.Int64() != 1 || len(crls[0].RevokedCertificateEntries) != 1 {
			t.Errorf("%s: wrong CRL content", f)
		}
	}
	_, err := ReadCRLs(p.path("leaf.pem"))
	if !errors.Is(err, ErrNoCRL) || !strings.Contains(err.Error(), "leaf.pem: no CRL found (found: 1 certificate(s))") {
		t.Errorf("CRL from a certificate file: %v", err)
	}
	// A truncated DER CRL is named as a CRL, not as a certificate.
	_, err = ReadBundle(p.write(t, "trunc.crl", p.crl.Raw[:len(p.crl.Raw)-10]), ReadOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "trunc.crl: ") {
		t.Errorf("truncated CRL: %v", err)
	}
}

// TestReadBundlePFX reads PFX files written by openssl with each family of
// algorithms and by cmgpki itself, and checks the algorithms reported.
func TestReadBundlePFX(t *testing.T) {
	p := newTestPKI(t)
	pw := "s3cret"
	export := func(name string, extra ...string) string {
		args := append([]string{"pkcs12", "-export", "-in", p.path("leaf.pem"), "-inkey", p.path("key.pem"),
			"-certfile", p.path("chain.pem"), "-passout", "pass:" + pw, "-out", p.path(name)}, extra...)
		if out, err := pkitest.Run(t, args...); err != nil {
			if len(extra) > 0 && extra[0] == "-legacy" {
				t.Skipf("openssl has no legacy provider: %s", out)
			}
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return p.path(name)
	}
	legacyDES, err := EncodePFX(rand.Reader, PFXLegacy, p.key, p.leaf, []*x509.Certificate{p.ica, p.root}, pw)
	if err != nil {
		t.Fatal(err)
	}
	modern, err := EncodePFX(rand.Reader, PFXModern, p.key, p.leaf, []*x509.Certificate{p.ica, p.root}, pw)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		file      func() string
		key, cert string
		mac       string
		aesOnly   bool
	}{
		{"openssl_default", func() string { return export("default.pfx") },
			"PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "SHA-256", true},
		{"openssl_aes_explicit", func() string {
			return export("aes.pfx", "-certpbe", "AES-256-CBC", "-keypbe", "AES-256-CBC")
		}, "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "SHA-256", true},
		{"openssl_descert", func() string { return export("descert.pfx", "-descert") },
			"PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "PBE-SHA1-3DES", "SHA-256", false},
		{"openssl_3des", func() string {
			return export("3des.pfx", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1")
		}, "PBE-SHA1-3DES", "PBE-SHA1-3DES", "SHA-1", false},
		{"cmgpki_legacy", func() string { return p.write(t, "legacy.pfx", legacyDES) }, "PBE-SHA1-3DES", "PBE-SHA1-3DES", "SHA-1", false},
		{"cmgpki_modern", func() string { return p.write(t, "modern.pfx", modern) },
			"PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", "SHA-256", true},
		{"openssl_legacy", func() string { return export("legacy-rc2.pfx", "-legacy") }, "PBE-SHA1-3DES", "PBE-SHA1-RC2-40", "SHA-1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file()
			b, err := ReadBundle(path, ReadOptions{Password: []byte(pw)})
			if err != nil {
				t.Fatal(err)
			}
			if b.Format != FormatPKCS12 || b.Key == nil || len(b.Certs) < 3 {
				t.Fatalf("got format %s, key %v, %d certificates", b.Format, b.Key != nil, len(b.Certs))
			}
			if err := KeyMatchesCertificate(b.Key, b.Certs[0]); err != nil || b.Certs[0].Subject.CommonName != "cmg.contoso.com" {
				t.Errorf("first certificate %q is not the key's: %v", b.Certs[0].Subject.CommonName, err)
			}
			i := b.PFX
			if len(i.KeyAlgorithms) != 1 || i.KeyAlgorithms[0].Name != tc.key {
				t.Errorf("key algorithms %+v, want %s", i.KeyAlgorithms, tc.key)
			}
			if len(i.CertAlgorithms) != 1 || i.CertAlgorithms[0].Name != tc.cert {
				t.Errorf("certificate algorithms %+v, want %s", i.CertAlgorithms, tc.cert)
			}
			if i.MAC == nil || i.MAC.Algorithm != tc.mac {
				t.Errorf("MAC %+v, want %s", i.MAC, tc.mac)
			}
			if i.AESOnly() != tc.aesOnly {
				t.Errorf("AESOnly = %v, want %v (%s)", i.AESOnly(), tc.aesOnly, i)
			}
			for _, a := range i.Algorithms() {
				if a.Iterations < 1 {
					t.Errorf("%s: iterations %d", a.Name, a.Iterations)
				}
			}
			// Wrong and missing passwords are named as such.
			_, err = ReadBundle(path, ReadOptions{Password: []byte("wrong")})
			base := filepath.Base(path)
			if !errors.Is(err, ErrWrongPassword) || err.Error() != base+": wrong password or corrupt MAC" {
				t.Errorf("wrong password: %v", err)
			}
			_, err = ReadBundle(path, ReadOptions{})
			if !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "(no password given)") {
				t.Errorf("no password: %v", err)
			}
		})
	}
}

func TestReadBundleErrors(t *testing.T) {
	p := newTestPKI(t)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, p.key)
	if err != nil {
		t.Fatal(err)
	}
	encKey, err := KeyPEM(rand.Reader, ecKey(t), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := p.read(t, "leaf.pem")
	cases := []struct {
		name string
		data []byte
		want string // full error, or a prefix ending in "..."
	}{
		{"x.pem", p.read(t, "key.pem"), "x.pem: no certificate found (found: PRIVATE KEY)"},
		{"csr.pem", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), encKey...),
			"csr.pem: no certificate found (found: PRIVATE KEY, CERTIFICATE REQUEST)"},
		{"empty.cer", nil, "empty.cer: file is empty"},
		{"bom-only.cer", []byte{0xEF, 0xBB, 0xBF}, "empty-bom.cer: file is empty"},
		{"junk.cer", []byte("hello, world"), "junk.cer: not PEM, DER certificate, PKCS#7, PKCS#12 or CRL"},
		{"trunc.pem", leafPEM[:len(leafPEM)-30], "trunc.pem: PEM: no complete block..."},
		{"trunc.cer", p.leaf.Raw[:len(p.leaf.Raw)-20], "trunc.cer: not PEM, DER certificate, PKCS#7, PKCS#12 or CRL: malformed DER SEQUENCE"},
		{"badcert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}), "badcert.pem: PEM block 1 (CERTIFICATE): ..."},
		{"ber.p7b", []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0x00, 0x00}, "ber.p7b: not PEM, DER certificate, PKCS#7, PKCS#12 or CRL: malformed DER SEQUENCE (BER indefinite-length encoding is not supported..."},
		{"twokeys.pem", append(append(p.read(t, "key.pem"), p.read(t, "key.pem")...), leafPEM...), "twokeys.pem: PEM block 2 (PRIVATE KEY): more than one private key in the file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.name
			if name == "bom-only.cer" {
				name = "empty-bom.cer"
			}
			_, err := ReadCertificates(p.write(t, name, tc.data), ReadOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if pre, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), pre) {
					t.Errorf("error %q, want prefix %q", err, pre)
				}
			} else if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
	// An encrypted key without a password is reported, not an error.
	b, err := ReadCertificates(p.write(t, "enc.pem", append(encKey, leafPEM...)), ReadOptions{})
	if err != nil || !b.KeyEncrypted || b.Key != nil {
		t.Errorf("encrypted key without password: %v %+v", err, b)
	}
	b, err = ReadCertificates(p.path("enc.pem"), ReadOptions{Password: []byte("pw")})
	if err != nil || b.Key == nil {
		t.Errorf("encrypted key with password: %v", err)
	}
	if _, err = ReadCertificates(p.path("enc.pem"), ReadOptions{Password: []byte("nope")}); err == nil || !strings.Contains(err.Error(), "enc.pem: PEM block 1 (ENCRYPTED PRIVATE KEY): wrong password") {
		t.Errorf("encrypted key, wrong password: %v", err)
	}
}

func TestKeyMatchesCertificate(t *testing.T) {
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey2, _ := ed25519.GenerateKey(rand.Reader)
	ec1, ec2 := ecKey(t), ecKey(t)
	rsa1 := rsaKey(t)
	self := func(k crypto.Signer) *x509.Certificate {
		return mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "k"},
			NotBefore: pkitest.At, NotAfter: pkitest.At.Add(time.Hour)}, nil, k.Public(), k)
	}
	_ = edPub
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		want string
	}{
		{"rsa", rsa1, self(rsa1), ""},
		{"ecdsa", ec1, self(ec1), ""},
		{"ed25519", edKey, self(edKey), ""},
		{"ecdsa_other", ec2, self(ec1), "certio: the key (ECDSA P-256) does not match the certificate \"CN=k\" (ECDSA P-256): a different key of the same type"},
		{"ed25519_other", edKey2, self(edKey), "a different key of the same type"},
		{"rsa_vs_ec", rsa1, self(ec1), "certio: the key (RSA-2048) does not match the certificate \"CN=k\" (ECDSA P-256)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := KeyMatchesCertificate(tc.key, tc.cert)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestParseCertificatesBOM: encoding/pem skips a first block that does not
// start a line, so a UTF-8 BOM (Notepad's "UTF-8 with BOM") used to hide the
// first certificate, usually the leaf, from ParseCertificates.
func TestParseCertificatesBOM(t *testing.T) {
	p := newTestPKI(t)
	certs, err := ParseCertificates(append([]byte{0xEF, 0xBB, 0xBF}, p.read(t, "chain.pem")...))
	if err != nil {
		t.Fatal(err)
	}
	if got := cns(certs); got != "cmg.contoso.com,Test Issuing,Test Root" {
		t.Errorf("certificates %s", got)
	}
}
