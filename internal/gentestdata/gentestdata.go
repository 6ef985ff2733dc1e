// Package gentestdata generates the certificate corpus in testdata/corpus:
// for every certificate rule of package profiles, certificates that break
// it (testdata/corpus/<rule>/<case>.pem) and, in testdata/corpus/good, one
// certificate per role that breaks none, each with the exact findings it
// must trip recorded in testdata/corpus/cases.json.
//
// The corpus is reproducible: every certificate is made at the pinned time
// At (never the clock), from the committed keys in keys/, with fixed serial
// numbers, and signed with RSA PKCS#1 v1.5, whose signatures are
// deterministic. Regenerate it with
//
//	go generate ./internal/gentestdata
//
// which runs go test ./internal/gentestdata -run TestCorpus -update;
// without -update, TestCorpus fails when the committed files differ from
// what Generate makes. The
// certificates made by openssl (testdata/corpus/openssl) are committed as
// made; their commands are in testdata/corpus/README.md and they are listed
// in cases.json with Maker "openssl".
//
// It is imported only by its own test and run by go generate.
package gentestdata

//go:generate go test -count=1 -run TestCorpus -update .

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cmgpki/cmgpki/profiles"
)

// At is the corpus's evaluation and issuance time: fixed, so that the files
// never change with the date they are generated or tested on.
var At = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

//go:embed keys/*.key
var keyFiles embed.FS

// Case is one corpus certificate and what judging it must report.
type Case struct {
	// Rule is the rule the case is made to trip; "good" for a certificate
	// that trips none.
	Rule string `json:"rule"`
	Name string `json:"case"`
	// File is the PEM file, relative to the corpus directory.
	File string `json:"file"`
	// Role is the profile the certificate is judged as.
	Role string `json:"role"`
	// Names and Computer are profiles.Subject's ExpectedNames and
	// ComputerName.
	Names    []string `json:"names,omitempty"`
	Computer string   `json:"computer,omitempty"`
	// At is the evaluation time.
	At time.Time `json:"at"`
	// Expect is every rule the case trips (notice, warn or error) and the
	// level: exactly these, no other.
	Expect map[string]string `json:"expect"`
	// Maker is "go" (this package) or "openssl" (committed as made).
	Maker string `json:"maker"`
}

// Manifest is cases.json.
type Manifest struct {
	Schema string    `json:"schema"`
	At     time.Time `json:"at"`
	Cases  []Case    `json:"cases"`
}

// ManifestSchema names the cases.json format.
const ManifestSchema = "cmgpki/corpus/v1"

type keys struct {
	root, issuing, leaf, weak, ec crypto.Signer
}

func loadKeys() (keys, error) {
	var k keys
	for name, dst := range map[string]*crypto.Signer{
		"root-rsa2048.key": &k.root, "issuing-rsa2048.key": &k.issuing, "leaf-rsa2048.key": &k.leaf,
		"weak-rsa1024.key": &k.weak, "leaf-p256.key": &k.ec,
	} {
		b, err := keyFiles.ReadFile("keys/" + name)
		if err != nil {
			return k, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return k, fmt.Errorf("gentestdata: keys/%s: no PEM block", name)
		}
		key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return k, fmt.Errorf("gentestdata: keys/%s: %w", name, err)
		}
		*dst = key.(crypto.Signer)
	}
	return k, nil
}

// node is a certificate and its key.
type node struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// corpus holds the CAs every case is issued from.
type corpus struct {
	k             keys
	root, issuing node
	wpjCA         node
	serial        int64
	files         map[string][]byte
	cases         []Case
}

const (
	guid       = "9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01"
	otherGUID  = "11111111-2222-4333-8444-555555555555"
	pkiBase    = "http://pki.contoso.com/"
	wpjCAOU    = "82dbaca4-3e81-46ca-9c73-0950c1eaca97"
	oidDC      = "0.9.2342.19200300.100.1.25"
	corpusName = "Corpus"
)

var year = 365 * 24 * time.Hour

func (c *corpus) sign(tpl *x509.Certificate, parent *node, key crypto.Signer) (*x509.Certificate, error) {
	c.serial++
	tpl.SerialNumber = big.NewInt(0x1000 + c.serial)
	pc, pk := tpl, key
	if parent != nil {
		pc, pk = parent.cert, parent.key
	}
	// rand is only used by randomized signature schemes; every signer here
	// is RSA PKCS#1 v1.5, which is deterministic.
	der, err := x509.CreateCertificate(rand.Reader, tpl, pc, key.Public(), pk)
	if err != nil {
		return nil, fmt.Errorf("gentestdata: %s: %w", tpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func mustRDN(attrs ...pkix.AttributeTypeAndValue) []byte {
	b, err := asn1.Marshal(pkix.RDNSequence{attrs})
	if err != nil {
		panic(err)
	}
	return b
}

func oid(s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	for _, p := range bytes.Split([]byte(s), []byte(".")) {
		n := 0
		fmt.Sscan(string(p), &n)
		o = append(o, n)
	}
	return o
}

func newCorpus() (*corpus, error) {
	k, err := loadKeys()
	if err != nil {
		return nil, err
	}
	c := &corpus{k: k, files: map[string][]byte{}}
	c.root.key, c.issuing.key, c.wpjCA.key = k.root, k.issuing, k.issuing
	rt, err := c.template(profiles.RootCA)
	if err != nil {
		return nil, err
	}
	if c.root.cert, err = c.sign(rt, nil, k.root); err != nil {
		return nil, err
	}
	it, err := c.template(profiles.IssuingCA)
	if err != nil {
		return nil, err
	}
	if c.issuing.cert, err = c.sign(it, &c.root, k.issuing); err != nil {
		return nil, err
	}
	wt, err := c.template(profiles.WPJCA)
	if err != nil {
		return nil, err
	}
	if c.wpjCA.cert, err = c.sign(wt, nil, k.issuing); err != nil {
		return nil, err
	}
	return c, nil
}

// template is the good template of role: it satisfies every rule.
func (c *corpus) template(r profiles.Role) (*x509.Certificate, error) {
	p := profiles.MustGet(r)
	tpl := &x509.Certificate{NotBefore: At.Add(-30 * 24 * time.Hour), NotAfter: At.Add(year)}
	if err := p.Apply(tpl); err != nil {
		return nil, err
	}
	if p.Revocation.Checked {
		tpl.CRLDistributionPoints = []string{pkiBase + "issuing.crl"}
		tpl.IssuingCertificateURL = []string{pkiBase + "issuing.cer"}
	}
	org := []string{"Contoso"}
	switch r {
	case profiles.RootCA:
		tpl.Subject = pkix.Name{CommonName: corpusName + " Root CA", Organization: org}
		tpl.NotBefore, tpl.NotAfter = At.Add(-year), At.Add(10*year)
	case profiles.IssuingCA:
		tpl.Subject = pkix.Name{CommonName: corpusName + " Issuing CA", Organization: org}
		tpl.NotBefore, tpl.NotAfter = At.Add(-year), At.Add(5*year)
		tpl.CRLDistributionPoints = []string{pkiBase + "root.crl"}
		tpl.IssuingCertificateURL = []string{pkiBase + "root.cer"}
	case profiles.WPJCA:
		tpl.RawSubject = mustRDN(
			pkix.AttributeTypeAndValue{Type: oid(oidDC), Value: "net"},
			pkix.AttributeTypeAndValue{Type: oid(oidDC), Value: "windows"},
			pkix.AttributeTypeAndValue{Type: oid("2.5.4.3"), Value: "MS-Organization-Access"},
			pkix.AttributeTypeAndValue{Type: oid("2.5.4.11"), Value: wpjCAOU},
		)
		tpl.NotBefore, tpl.NotAfter = At.Add(-year), At.Add(10*year)
	case profiles.CMGServer:
		tpl.Subject, tpl.DNSNames = pkix.Name{CommonName: "cmg01.contoso.com", Organization: org}, []string{"cmg01.contoso.com"}
	case profiles.MPHTTPS:
		tpl.Subject, tpl.DNSNames = pkix.Name{CommonName: "mp01.corp.contoso.com", Organization: org}, []string{"mp01.corp.contoso.com", "mp.contoso.com"}
	case profiles.CMGConnectionPoint:
		tpl.Subject, tpl.DNSNames = pkix.Name{CommonName: "cp01.corp.contoso.com"}, []string{"cp01.corp.contoso.com"}
	case profiles.PKIClient:
		tpl.Subject, tpl.DNSNames = pkix.Name{CommonName: "client01.corp.contoso.com"}, []string{"client01.corp.contoso.com"}
	case profiles.WPJDevice:
		tpl.Subject = pkix.Name{CommonName: guid}
		exts, err := profiles.WPJExtensions(profiles.WPJIdentity{DeviceID: guid, InvocationID: guid, UserID: guid, DomainID: guid, JoinType: '1'})
		if err != nil {
			return nil, err
		}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, exts...)
		tpl.NotAfter = At.Add(10 * year)
	case profiles.OCSPSigner:
		tpl.Subject = pkix.Name{CommonName: corpusName + " OCSP Responder", Organization: org}
		tpl.ExtraExtensions = append(tpl.ExtraExtensions, pkix.Extension{Id: profiles.OIDOCSPNoCheck, Value: []byte{5, 0}})
	}
	return tpl, nil
}

// spec is one case to generate.
type spec struct {
	rule, name string
	role       profiles.Role
	mutate     func(*x509.Certificate)
	key        func(keys) crypto.Signer // the subject key; nil: leaf RSA 2048 (CAs: their own)
	issuer     func(*corpus) *node      // nil: the role's usual issuer
	names      []string
	computer   string
	expect     map[string]string
}

func (c *corpus) issuerOf(r profiles.Role) *node {
	switch r {
	case profiles.RootCA, profiles.WPJCA:
		return nil
	case profiles.IssuingCA:
		return &c.root
	case profiles.WPJDevice:
		return &c.wpjCA
	}
	return &c.issuing
}

func (c *corpus) add(s spec) error {
	tpl, err := c.template(s.role)
	if err != nil {
		return err
	}
	if s.mutate != nil {
		s.mutate(tpl)
	}
	key := c.k.leaf
	switch s.role {
	case profiles.RootCA:
		key = c.k.root
	case profiles.IssuingCA, profiles.WPJCA:
		key = c.k.issuing
	}
	if s.key != nil {
		key = s.key(c.k)
	}
	parent := c.issuerOf(s.role)
	if s.issuer != nil {
		parent = s.issuer(c)
	}
	cert, err := c.sign(tpl, parent, key) // nil parent: self-signed
	if err != nil {
		return err
	}
	return c.write(s, cert)
}

func (c *corpus) write(s spec, cert *x509.Certificate) error {
	file := filepath.ToSlash(filepath.Join(s.rule, s.name+".pem"))
	var b bytes.Buffer
	fmt.Fprintf(&b, "Corpus case %s/%s: role %s, judged at %s\n", s.rule, s.name, s.role, At.Format(time.RFC3339))
	fmt.Fprintf(&b, "Subject: %s\nIssuer: %s\nExpect: %s\n", cert.Subject, cert.Issuer, expectText(s.expect))
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	c.files[file] = b.Bytes()
	if s.expect == nil {
		s.expect = map[string]string{}
	}
	c.cases = append(c.cases, Case{Rule: s.rule, Name: s.name, File: file, Role: string(s.role), Names: s.names,
		Computer: s.computer, At: At, Expect: s.expect, Maker: "go"})
	return nil
}

func expectText(m map[string]string) string {
	if len(m) == 0 {
		return "no findings"
	}
	var out []string
	for k, v := range m {
		out = append(out, k+" ("+v+")")
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// Files generates the corpus in memory: file path (relative to the corpus
// directory) to contents, cases.json and the CA certificates included.
func Files() (map[string][]byte, error) {
	c, err := newCorpus()
	if err != nil {
		return nil, err
	}
	for _, s := range specs() {
		if err := c.add(s); err != nil {
			return nil, fmt.Errorf("gentestdata: case %s/%s: %w", s.rule, s.name, err)
		}
	}
	for name, n := range map[string]*node{"root-ca": &c.root, "issuing-ca": &c.issuing, "wpj-ca": &c.wpjCA} {
		c.files["ca/"+name+".pem"] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.cert.Raw})
	}
	m := Manifest{Schema: ManifestSchema, At: At, Cases: append(c.cases, opensslCases()...)}
	sort.SliceStable(m.Cases, func(i, j int) bool {
		if m.Cases[i].Rule != m.Cases[j].Rule {
			return m.Cases[i].Rule < m.Cases[j].Rule
		}
		return m.Cases[i].Name < m.Cases[j].Name
	})
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	c.files["cases.json"] = append(b, '\n')
	return c.files, nil
}

// Generate writes the corpus into dir (testdata/corpus), replacing the
// generated files and leaving openssl/ and README.md alone.
func Generate(dir string) error {
	files, err := Files()
	if err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("gentestdata: %w", err)
		}
	}
	return nil
}
