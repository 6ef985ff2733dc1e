package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/pgtest"
)

// TestStoreCopySQLiteToPostgres: a lab's SQLite store moves to PostgreSQL
// with its revocations and CRL numbering; a second copy changes nothing.
func TestStoreCopySQLiteToPostgres(t *testing.T) {
	c := pgtest.Shared(t)
	dir, pg := pgLab(t, c, "127.0.0.1:8080")
	cert := filepath.Join(dir, "certs", "client01.crt")
	if r := runCmd(t, nil, "revoke", "--lab", dir, "--cert", cert, "--reason", "keyCompromise"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	for range 2 {
		if r := runCmd(t, nil, "crl", "--lab", dir); r.code != 0 {
			t.Fatal(r.errOut)
		}
	}
	src := "sqlite:" + filepath.Join(dir, crl.StoreFile)
	type res struct {
		Records, Revocations, NewRevoked int
		CRLs                             int `json:"crls_copied"`
		Conflicts                        int
	}
	copyOnce := func() res {
		r := runCmd(t, nil, "store", "copy", "--from", src, "--to", pg, "--output", "json")
		if r.code != 0 {
			t.Fatalf("store copy: exit %d %s", r.code, r.errOut)
		}
		var v struct {
			Records     int `json:"records"`
			Revocations int `json:"revocations"`
			NewRevoked  int `json:"new_revoked"`
			CRLs        int `json:"crls_copied"`
			Conflicts   int `json:"conflicts"`
		}
		if err := json.Unmarshal([]byte(r.out), &v); err != nil {
			t.Fatalf("%v: %s", err, r.out)
		}
		return res{v.Records, v.Revocations, v.NewRevoked, v.CRLs, v.Conflicts}
	}
	first := copyOnce()
	if first.Records == 0 || first.Revocations != 1 || first.NewRevoked != 1 || first.CRLs == 0 || first.Conflicts != 0 {
		t.Errorf("first copy: %+v", first)
	}
	if again := copyOnce(); again.NewRevoked != 0 || again.CRLs != 0 || again.Records != first.Records {
		t.Errorf("second copy changed something: %+v", again)
	}
	// The PostgreSQL store knows the revocation, and its next CRL continues
	// the numbering (the SQLite store made CRLs 1..N for each CA).
	r := runCmd(t, nil, "revoke", "--lab", dir, "--store", pg, "--cert", cert, "--output", "json")
	if r.code != 0 || !strings.Contains(r.out, `"unchanged": true`) {
		t.Errorf("revoke on the copy: exit %d %s %s", r.code, r.out, r.errOut)
	}
	before := runCmd(t, nil, "crl", "--lab", dir, "--output", "json")
	after := runCmd(t, nil, "crl", "--lab", dir, "--store", pg, "--output", "json")
	if before.code != 0 || after.code != 0 {
		t.Fatalf("crl: %s %s", before.errOut, after.errOut)
	}
	num := func(out string) map[string]int {
		var v struct {
			CRLs []struct {
				Issuer string `json:"issuer"`
				Number string `json:"number"`
			} `json:"crls"`
		}
		json.Unmarshal([]byte(out), &v)
		m := map[string]int{}
		for _, c := range v.CRLs {
			var n int
			for _, d := range c.Number {
				n = n*10 + int(d-'0')
			}
			m[c.Issuer] = n
		}
		return m
	}
	b, a := num(before.out), num(after.out)
	if len(a) == 0 {
		t.Fatalf("no CRLs in %s", after.out)
	}
	for iss, n := range a {
		if n <= b[iss]-1 {
			t.Errorf("CRL of %s on PostgreSQL is number %d, not above the SQLite store's %d", iss, n, b[iss]-1)
		}
	}
	if r := runCmd(t, nil, "store", "copy", "--from", "sqlite:"+filepath.Join(t.TempDir(), "none.db"), "--to", pg); r.code != ExitUsage || !strings.Contains(r.errOut, "--from") {
		t.Errorf("missing source: exit %d %s", r.code, r.errOut)
	}
}

// TestIssueRecordsInPostgres: with $CMGPKI_STORE naming a PostgreSQL
// database, issue records the new certificate there (a running serve on that
// database learns of it at once), and revoke through the same store finds it.
func TestIssueRecordsInPostgres(t *testing.T) {
	c := pgtest.Shared(t)
	dir, pg := pgLab(t, c, "127.0.0.1:8080")
	env := map[string]string{"CMGPKI_STORE": pg}
	if r := runCmd(t, env, "crl", "--lab", dir); r.code != 0 { // creates the schema, imports the manifest
		t.Fatal(r.errOut)
	}
	if r := runCmd(t, env, "issue", "pki-client", "--lab", dir, "--name", "c9", "--cn", "c9.contoso.com"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	if !pgHasSubject(t, pg, "CN=c9.contoso.com") {
		t.Error("the issued certificate is not in the PostgreSQL store")
	}
	if _, err := os.Stat(filepath.Join(dir, crl.StoreFile)); err == nil {
		t.Error("a SQLite store was created although CMGPKI_STORE names PostgreSQL")
	}
}

// TestIssueStoreFlag: issue takes --store like revoke, crl and serve; a bad
// value is a usage error naming the flag, and nothing is issued.
func TestIssueStoreFlag(t *testing.T) {
	c := pgtest.Shared(t)
	dir, pg := pgLab(t, c, "127.0.0.1:8080")
	if r := runCmd(t, nil, "crl", "--lab", dir, "--store", pg); r.code != 0 {
		t.Fatal(r.errOut)
	}
	if r := runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "c8", "--cn", "c8.contoso.com", "--store", pg); r.code != 0 {
		t.Fatal(r.errOut)
	}
	if !pgHasSubject(t, pg, "CN=c8.contoso.com") {
		t.Error("issue --store did not record the certificate in PostgreSQL")
	}
	r := runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "c7", "--cn", "c7.contoso.com", "--store", "mysql://x")
	if r.code != ExitUsage || !strings.Contains(r.errOut, "--store") {
		t.Errorf("bad --store: exit %d: %s", r.code, r.errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "certs", "c7.crt")); err == nil {
		t.Error("a certificate was issued although --store was bad")
	}
}

// pgHasSubject reports whether the PostgreSQL store at url records a
// certificate of the issuing CA with that subject.
func pgHasSubject(t *testing.T, url, subject string) bool {
	t.Helper()
	st, err := crl.OpenPostgres(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.All(t.Context(), "issuing-ca")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Subject == subject {
			return true
		}
	}
	return false
}
