package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/lab"
)

func TestRevokeCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	m, _ := lab.ReadManifest(dir)
	client, _ := m.Find("client01")
	certFile := filepath.Join(dir, client.Files.Cert)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown serial", []string{"revoke", "--lab", dir, "--serial", "0abc"}, "serial abc is not a certificate of lab"},
		{"both selectors", []string{"revoke", "--lab", dir, "--serial", "0abc", "--cert", certFile}, "exactly one of --serial and --cert"},
		{"no selector", []string{"revoke", "--lab", dir}, "exactly one of --serial and --cert"},
		{"bad serial", []string{"revoke", "--lab", dir, "--serial", "xyz"}, "--serial"},
		{"bad reason", []string{"revoke", "--lab", dir, "--cert", certFile, "--reason", "lost"}, `--reason: unknown revocation reason "lost"`},
		{"no lab", []string{"revoke", "--cert", certFile}, "--lab is required"},
		{"not a lab", []string{"revoke", "--lab", t.TempDir(), "--cert", certFile}, "not a cmgpki lab directory"},
		{"missing cert file", []string{"revoke", "--lab", dir, "--cert", filepath.Join(dir, "nope.crt")}, "--cert"},
		{"crl without lab", []string{"crl"}, "--lab is required"},
		{"serve without lab", []string{"serve"}, "--lab is required"},
		{"serve bad poll", []string{"serve", "--lab", dir, "--poll", "1ms"}, "--poll"},
		{"serve bad engine", []string{"serve", "--lab", dir, "--engine", "nginx"}, `--engine: unknown HTTP engine "nginx" (want fasthttp or net/http)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.errOut, tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", r.code, tc.want, r.errOut)
			}
		})
	}

	r := runCmd(t, nil, "revoke", "--lab", dir, "--cert", certFile, "--hold", "--output", "json")
	var v revokeView
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || r.code != 0 {
		t.Fatalf("revoke --hold: %v %s", err, r.errOut)
	}
	if v.Schema != "cmgpki/revoke/v1" || v.Status != "revoked" || v.Reason != "certificateHold" || v.Serial != client.Serial || v.Unchanged {
		t.Errorf("revoke --hold JSON %+v", v)
	}
	r = runCmd(t, nil, "unrevoke", "--lab", dir, "--serial", client.Serial)
	if r.code != 0 || !strings.Contains(r.out, "good") {
		t.Errorf("unrevoke of a hold: exit %d %s %s", r.code, r.out, r.errOut)
	}
	r = runCmd(t, nil, "revoke", "--lab", dir, "--serial", strings.ToUpper(client.Serial), "--reason", "keyCompromise")
	if r.code != 0 || !strings.Contains(r.out, "keyCompromise") {
		t.Fatalf("revoke: exit %d %s", r.code, r.errOut)
	}
	r = runCmd(t, nil, "revoke", "--lab", dir, "--cert", certFile, "--reason", "superseded")
	if r.code != 0 || !strings.Contains(r.errOut, "already revoked") || !strings.Contains(r.out, "keyCompromise") {
		t.Errorf("second revoke is not idempotent: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}
	r = runCmd(t, nil, "unrevoke", "--lab", dir, "--cert", certFile)
	if r.code != ExitUsage || !strings.Contains(r.errOut, "only certificateHold can be released") {
		t.Errorf("unrevoke of keyCompromise: exit %d %s", r.code, r.errOut)
	}

	// crl: signed CRLs for every CA, written under DIR/crl, numbers increasing.
	r = runCmd(t, nil, "crl", "--lab", dir, "--output", "json")
	var out struct {
		Schema string `json:"schema"`
		CRLs   []struct {
			Issuer  string `json:"issuer"`
			Number  int64  `json:"number"`
			Entries int    `json:"entries"`
			File    string `json:"file"`
		} `json:"crls"`
	}
	if err := json.Unmarshal([]byte(r.out), &out); err != nil || r.code != 0 || out.Schema != "cmgpki/crl/v1" || len(out.CRLs) != len(m.CAs) {
		t.Fatalf("crl JSON: %v %s %s", err, r.out, r.errOut)
	}
	for _, c := range out.CRLs {
		if _, err := os.Stat(c.File); err != nil {
			t.Errorf("%s: %v", c.Issuer, err)
		}
		if c.Issuer == "issuing-ca" && c.Entries != 1 {
			t.Errorf("issuing-ca CRL has %d entries, want 1", c.Entries)
		}
	}
	r2 := runCmd(t, nil, "crl", "--lab", dir, "--output", "json")
	first := out.CRLs[0].Number
	var out2 = out
	out2.CRLs = nil
	json.Unmarshal([]byte(r2.out), &out2)
	if out2.CRLs[0].Number <= first {
		t.Errorf("CRL number did not increase: %d then %d", first, out2.CRLs[0].Number)
	}
	der, _ := os.ReadFile(filepath.Join(dir, "crl", "issuing-ca.crl"))
	rl, err := parseCRL(der)
	if err != nil || len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].ReasonCode != 1 {
		t.Errorf("published CRL: %v", err)
	}
	if r := runCmd(t, nil, "crl", "--lab", dir); !strings.Contains(r.out, "NEXT UPDATE") || !strings.Contains(r.out, "issuing-ca") {
		t.Errorf("crl table:\n%s", r.out)
	}
}

// A lab made before the store existed (or copied as a fixture) is imported on
// first use, and issuing into a lab with a store records the new certificate.
func TestStoreImportAndRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0")
	if _, err := os.Stat(filepath.Join(dir, "revocation.db")); err == nil {
		t.Fatal("lab create made a store (fixtures should stay plain files)")
	}
	if r := runCmd(t, nil, "revoke", "--lab", dir, "--cert", filepath.Join(dir, "certs", "mp-https.crt")); r.code != 0 {
		t.Fatalf("revoke on a store-less lab: %s", r.errOut)
	}
	if r := runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "c9", "--cn", "c9.contoso.com"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	// Remove c9 from the manifest: only the recorder can have told the store.
	m, _ := lab.ReadManifest(dir)
	c9, _ := m.Find("c9")
	m.Certificates = m.Certificates[:len(m.Certificates)-1]
	lab.WriteManifest(dir, m)
	if r := runCmd(t, nil, "revoke", "--lab", dir, "--serial", c9.Serial); r.code != 0 {
		t.Errorf("a certificate issued into a lab with a store was not recorded: %s", r.errOut)
	}
}

// An operational failure (a corrupt store) is exit 3 with a message naming the file.
func TestCorruptStoreIsOperationalError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0")
	os.WriteFile(filepath.Join(dir, "revocation.db"), []byte("this is not a database, not at all, no"), 0o600)
	r := runCmd(t, nil, "revoke", "--lab", dir, "--cert", filepath.Join(dir, "certs", "client01.crt"))
	if r.code != ExitFailure || !strings.Contains(r.errOut, "revocation.db") || !strings.Contains(r.errOut, "not a database") {
		t.Errorf("exit %d, want 3 naming the store:\n%s", r.code, r.errOut)
	}
}
