package cmd

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/profiles"
)

// Tests for what an independent reviewer found trying cmgpki as a new user.

func readManifest(t *testing.T, dir string) *lab.Manifest {
	t.Helper()
	m, err := lab.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustRun(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := runCmd(t, env, args...)
	if r.code != ExitOK {
		t.Fatalf("%q: exit %d: %s", args, r.code, r.errOut)
	}
	return r
}

// TestIssueForceKeepsOldRevocable: the certificate "issue --force"
// replaces stays valid, so it stays revocable (and is in the CRL once
// revoked), whether or not the lab had a revocation store before; the Note
// says how to revoke it. It is not revoked automatically.
func TestIssueForceKeepsOldRevocable(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		dir := caInit(t)
		if withStore {
			mustRun(t, nil, "crl", "--lab", dir) // creates revocation.db before the --force
		}
		issue := []string{"issue", "cmg-server", "--lab", dir, "--name", "cmg2", "--cn", "cmg2.contoso.com"}
		mustRun(t, nil, issue...)
		oldEntry, _ := readManifest(t, dir).Find("cmg2")
		oldSerial := oldEntry.Serial
		r := mustRun(t, nil, append(issue, "--force")...)
		want := "Note: the certificate it replaces (serial " + oldSerial + ") stays valid until " + oldEntry.NotAfter +
			"; revoke it with: cmgpki revoke --lab " + dir + " --serial " + oldSerial + " --reason superseded"
		if !strings.Contains(r.errOut, want) {
			t.Errorf("store %v: stderr lacks %q:\n%s", withStore, want, r.errOut)
		}
		m := readManifest(t, dir)
		if len(m.Replaced) != 1 || m.Replaced[0].Serial != oldSerial || m.Replaced[0].Name != "cmg2" ||
			m.Replaced[0].IssuerName != "issuing-ca" || m.Replaced[0].NotAfter != oldEntry.NotAfter || m.Replaced[0].ReplacedAt == "" {
			t.Errorf("store %v: manifest replaced = %+v", withStore, m.Replaced)
		}
		// not revoked automatically
		r = mustRun(t, nil, "crl", "--lab", dir, "--output", "json")
		if strings.Contains(r.out, `"entries": 1`) {
			t.Errorf("store %v: the replaced certificate was revoked by issue --force:\n%s", withStore, r.out)
		}
		r = runCmd(t, nil, "revoke", "--lab", dir, "--serial", oldSerial, "--reason", "superseded")
		if r.code != ExitOK {
			t.Fatalf("store %v: revoke of the replaced serial: exit %d: %s", withStore, r.code, r.errOut)
		}
		mustRun(t, nil, "crl", "--lab", dir)
		der, err := os.ReadFile(filepath.Join(dir, "crl", "issuing-ca.crl"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCRL(der)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.RevokedCertificateEntries) != 1 || c.RevokedCertificateEntries[0].SerialNumber.Text(16) != oldSerial {
			t.Errorf("store %v: the CRL does not list the replaced serial %s: %v", withStore, oldSerial, c.RevokedCertificateEntries)
		}
	}
}

// TestIssueChecksOwnPFXPassword: a lab made with the user's PFX password
// refuses a different one (exit 2, naming where it came from); a lab with
// no PFX yet takes it, with a Note.
func TestIssueChecksOwnPFXPassword(t *testing.T) {
	base := t.TempDir()
	pw := writeFile(t, base, "pw.txt", "Right-Passw0rd\n")
	dir := filepath.Join(base, "l1")
	mustRun(t, nil, "lab", "create", "--out", dir, "--pfx-password-file", pw)
	issue := []string{"issue", "pki-client", "--lab", dir, "--name", "c2", "--cn", "c2.contoso.com"}
	r := runCmd(t, map[string]string{"CMGPKI_PFX_PASSWORD": "Wrong"}, issue...)
	wantUsage(t, r, []string{"CMGPKI_PFX_PASSWORD", "does not open"})
	if _, err := os.Stat(filepath.Join(dir, "certs", "c2.pfx")); err == nil {
		t.Error("c2.pfx was written with the wrong password")
	}
	wrong := writeFile(t, base, "wrong.txt", "Wrong\n")
	wantUsage(t, runCmd(t, nil, append(issue, "--pfx-password-file", wrong)...), []string{"--pfx-password-file " + wrong, "does not open"})
	r = mustRun(t, map[string]string{"CMGPKI_PFX_PASSWORD": "Right-Passw0rd"}, issue...)
	if strings.Contains(r.errOut, "could not be checked") {
		t.Errorf("a checked password was noted as unchecked:\n%s", r.errOut)
	}

	// ca init with an own password: no PFX to check against yet.
	ci := filepath.Join(base, "ci")
	mustRun(t, map[string]string{"CMGPKI_PFX_PASSWORD": "Right-Passw0rd"}, "ca", "init", "--out", ci)
	r = mustRun(t, map[string]string{"CMGPKI_PFX_PASSWORD": "Right-Passw0rd"}, "issue", "pki-client", "--lab", ci, "--name", "c1", "--cn", "c1.contoso.com")
	if !strings.Contains(r.errOut, "Note: lab "+ci+" has no PFX yet, so the password from CMGPKI_PFX_PASSWORD could not be checked") {
		t.Errorf("no Note about the unchecked password:\n%s", r.errOut)
	}
	wantUsage(t, runCmd(t, map[string]string{"CMGPKI_PFX_PASSWORD": "Wrong"}, "issue", "pki-client", "--lab", ci, "--name", "c3", "--cn", "c3.contoso.com"),
		[]string{"CMGPKI_PFX_PASSWORD", "does not open"})
}

// TestIssueNotBeforeWithinIssuer: --not-before outside the issuing CA's
// validity is a usage error naming --not-before and the CA's window (not
// --validity); a certificate already expired at the clock's now gets a
// Warning; a lab created already expired gets one too.
func TestIssueNotBeforeWithinIssuer(t *testing.T) {
	dir := caInit(t)
	issue := []string{"issue", "pki-client", "--lab", dir, "--name", "c1", "--cn", "c1.contoso.com"}
	for _, nb := range []string{"2000-01-01T00:00:00Z", "2040-01-01T00:00:00Z"} {
		r := runCmd(t, nil, append(issue, "--not-before", nb)...)
		wantUsage(t, r, []string{"--not-before", nb, "outside the validity of its issuer issuing-ca"}, "--validity")
	}
	if m := readManifest(t, dir); len(m.Certificates) != 0 {
		t.Errorf("a refused issue wrote %d certificates", len(m.Certificates))
	}
	r := mustRun(t, nil, "issue", "pki-client", "--lab", dir, "--name", "c2", "--cn", "c2.contoso.com")
	if strings.Contains(r.errOut, "Warning:") {
		t.Errorf("a current certificate got a Warning:\n%s", r.errOut)
	}
	// Within the CA's window but expired by now: allowed, with a Warning.
	month := caInit(t, "--not-before", pkitest.At.Add(-30*24*time.Hour).Format(time.RFC3339))
	ca, _ := readManifest(t, month).Find("issuing-ca")
	r = mustRun(t, nil, "issue", "pki-client", "--lab", month, "--name", "c1", "--cn", "c1.contoso.com", "--not-before", ca.NotBefore, "--validity", "24h")
	if !strings.Contains(r.errOut, "Warning: c1 expired at") {
		t.Errorf("no Warning for an expired certificate:\n%s", r.errOut)
	}

	old := filepath.Join(t.TempDir(), "old")
	r = mustRun(t, nil, "ca", "init", "--out", old, "--not-before", "2000-01-01T00:00:00Z")
	if !strings.Contains(r.errOut, "Warning: the lab is already expired at the current time") || !strings.Contains(r.errOut, "root-ca (") {
		t.Errorf("no Warning for an expired lab:\n%s", r.errOut)
	}
}

// TestKeyPasswordErrorsNameThePassword: a missing or wrong key password is
// blamed on --key-password-file or $CMGPKI_KEY_PASSWORD, not on --lab, by
// issue, crl and serve.
func TestKeyPasswordErrorsNameThePassword(t *testing.T) {
	base := t.TempDir()
	kp := writeFile(t, base, "kp.txt", "key-pass\n")
	wrong := writeFile(t, base, "wrong.txt", "not-it\n")
	dir := filepath.Join(base, "lab")
	mustRun(t, nil, "ca", "init", "--out", dir, "--key-password-file", kp)
	for _, cmd := range [][]string{
		{"issue", "pki-client", "--lab", dir, "--name", "c1", "--cn", "c1.contoso.com"},
		{"crl", "--lab", dir},
		{"serve", "--lab", dir, "--listen", "127.0.0.1:0"},
	} {
		wantUsage(t, runCmd(t, nil, append(cmd, "--key-password-file", wrong)...),
			[]string{"Error: --key-password-file " + wrong + ": the password does not open the keys of lab " + dir}, "Error: --lab")
		wantUsage(t, runCmd(t, map[string]string{"CMGPKI_KEY_PASSWORD": "not-it"}, cmd...),
			[]string{"Error: $CMGPKI_KEY_PASSWORD: the password does not open the keys of lab " + dir}, "Error: --lab")
		wantUsage(t, runCmd(t, nil, cmd...),
			[]string{"Error: --key-password-file: the keys of lab " + dir + " are encrypted and no password was given", "$CMGPKI_KEY_PASSWORD"}, "Error: --lab")
	}
	if _, err := os.Stat(filepath.Join(dir, "revocation.db")); err == nil {
		t.Error("a refused command created revocation.db")
	}
}

// TestLabCreateIntoEmptyDir: an existing empty directory is filled, with
// or without --force; a lab with CA keys is refused with a message that
// does not suggest moving the keys; --out . (or a parent of the current
// directory) is a usage error.
func TestLabCreateIntoEmptyDir(t *testing.T) {
	base := t.TempDir()
	for _, force := range []bool{false, true} {
		empty := filepath.Join(base, "empty")
		if force {
			empty += "-force"
		}
		if err := os.Mkdir(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		args := []string{"ca", "init", "--out", empty}
		if force {
			args = append(args, "--force")
		}
		mustRun(t, nil, args...)
		if _, err := os.Stat(filepath.Join(empty, "ca", "root-ca.key")); err != nil {
			t.Errorf("force %v: the empty directory was not filled: %v", force, err)
		}
		// Now a lab with CA keys: refused, without a nudge to move the keys.
		r := runCmd(t, nil, "ca", "init", "--out", empty)
		wantUsage(t, r, []string{"--out", empty + " already exists (a cmgpki lab with CA keys); choose another --out"}, "move the key away")
	}
	// --out . inside a keyless lab.
	keyless := filepath.Join(base, "keyless")
	mustRun(t, nil, "lab", "create", "--out", keyless)
	if err := os.RemoveAll(filepath.Join(keyless, "ca")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(keyless)
	wantUsage(t, runCmd(t, nil, "lab", "create", "--out", ".", "--force"), []string{"--out . cannot be the current directory or contain it"})
	if err := os.MkdirAll(filepath.Join(keyless, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(keyless, "sub"))
	wantUsage(t, runCmd(t, nil, "lab", "create", "--out", "..", "--force"), []string{"--out .. cannot be the current directory or contain it"})
	if _, err := os.Stat(filepath.Join(keyless, lab.ManifestFile)); err != nil {
		t.Errorf("the lab was touched: %v", err)
	}
}

// TestIssueNits: issue lists only issuable profiles; a CA name is refused
// at once; an explicit --validity 0s is refused; SANs that differ only in
// case are written once, with a Note; messages count in the singular.
func TestIssueNits(t *testing.T) {
	dir := caInit(t)
	issue := func(args ...string) result {
		return runCmd(t, nil, append([]string{"issue", "pki-client", "--lab", dir, "--name", "c1", "--cn", "c1.contoso.com"}, args...)...)
	}
	for _, p := range []string{"nosuch", "root-ca"} {
		r := runCmd(t, nil, "issue", p, "--lab", dir, "--name", "x", "--cn", "x.contoso.com")
		wantUsage(t, r, []string{"PROFILE argument", "pki-client", "wpj-device"}, "issuing-ca,", "wpj-ca,", "[")
	}
	wantUsage(t, runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "root-ca", "--cn", "x.contoso.com"),
		[]string{"--name", `"root-ca" is the name of a CA`}, "--force")
	wantUsage(t, runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "root-ca", "--cn", "x.contoso.com", "--force"),
		[]string{"--name", `"root-ca" is the name of a CA`})
	wantUsage(t, issue("--validity", "0s"), []string{"--validity 0s", "must be positive"})

	r := issue("--san", "c1.contoso.com", "--san", "C1.Contoso.COM", "--san", "c1.corp.contoso.com")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.errOut, "Note: --san C1.Contoso.COM repeats the SAN c1.contoso.com of certificate c1") {
		t.Errorf("no Note on the duplicate SAN:\n%s", r.errOut)
	}
	e, _ := readManifest(t, dir).Find("c1")
	if strings.Join(e.DNSNames, ",") != "c1.contoso.com,c1.corp.contoso.com" {
		t.Errorf("SANs %q", e.DNSNames)
	}

	r = runCmd(t, nil, "ca", "init", "--out", filepath.Join(t.TempDir(), "one"), "--no-issuing-ca", "--no-wpj-ca")
	if !strings.Contains(r.errOut, "Made 1 CA and 0 certificates") {
		t.Errorf("plural:\n%s", r.errOut)
	}
	wantUsage(t, runCmd(t, nil, "issue"), []string{"want 1 argument (PROFILE)"})

	for _, p := range []profiles.Role{profiles.PKIClient, profiles.CMGServer, profiles.WPJDevice} {
		got, _ := complete(t, "issue", string(p), "--key-type", "")
		want := fmt.Sprint(profiles.MustGet(p).AllowedKeyTypes())
		if fmt.Sprint(got) != want || strings.Contains(want, "p256") {
			t.Errorf("issue %s --key-type completes %q, want %s (and no p256)", p, got, want)
		}
	}
	if got, _ := complete(t, "issue", "--key-type", "p"); fmt.Sprint(got) != "[p256 p384]" {
		t.Errorf("issue --key-type p (no PROFILE) completes %q", got)
	}
}

// TestHelpExamplesRun runs every Example line of every command's help,
// as printed, against a fresh copy of a default lab "cmg-lab" in the
// current directory, and wants exit 0 and no Warning. serve (which does
// not return) and completion (shell scripts) are left out. SERIAL, the
// examples' placeholder, is the serial of a certificate of the lab.
func TestHelpExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("makes several labs")
	}
	repoTestdata, err := filepath.Abs(filepath.Join("..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := t.TempDir()
	// The lab's URLs point at a free loopback port; the verify examples run
	// with serve listening there (examples that name 127.0.0.1:8080, the
	// default base URL, are pointed at it too).
	addr := freePort(t)
	mustRun(t, nil, "lab", "create", "--out", filepath.Join(tmpl, "cmg-lab"), "--base-url", "http://"+addr)
	mustRun(t, nil, "crl", "--lab", filepath.Join(tmpl, "cmg-lab"))
	serialOf := func(t *testing.T, dir, name string) string {
		e, ok := readManifest(t, dir).Find(name)
		if !ok {
			t.Fatalf("no %s in %s", name, dir)
		}
		return e.Serial
	}

	var f Factory
	f.IO = IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		cmds = append(cmds, c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd(&f))
	ran := map[string]bool{}
	for _, c := range cmds {
		path := strings.TrimPrefix(c.CommandPath(), "cmgpki ")
		if c.Example == "" || path == "serve" || strings.HasPrefix(path, "completion") {
			continue
		}
		t.Run(path, func(t *testing.T) {
			work := t.TempDir()
			if path != "lab create" && path != "ca init" {
				copyTree(t, tmpl, work)
			}
			copyTree(t, repoTestdata, filepath.Join(work, "testdata"))
			t.Chdir(work)
			serial := "SERIAL"
			if strings.Contains(c.Example, "SERIAL") {
				serial = serialOf(t, "cmg-lab", "mp-https")
			}
			if strings.HasPrefix(path, "verify") {
				startServe(t, "cmg-lab", addr)
			}
			if path == "unrevoke" { // the hold its first example releases, and one for SERIAL
				serial = serialOf(t, "cmg-lab", "cmg-server")
				mustRun(t, nil, "revoke", "--lab", "cmg-lab", "--cert", "cmg-lab/certs/client01.crt", "--hold")
				mustRun(t, nil, "revoke", "--lab", "cmg-lab", "--serial", serial, "--hold")
			}
			for _, line := range strings.Split(c.Example, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				// A pipe's right side is not cmgpki: run the left side.
				if i := strings.Index(line, " | "); i > 0 {
					line = line[:i]
				}
				env, args := splitExample(t, line)
				var expanded []string
				skip := ""
				for _, a := range args {
					a = strings.ReplaceAll(a, "127.0.0.1:8080", addr)
					switch {
					case a == "SERIAL":
						a = serial
					case strings.ContainsAny(a, "*?"):
						m, _ := filepath.Glob(a)
						expanded = append(expanded, m...)
						continue
					case strings.HasPrefix(a, "https://") && !strings.Contains(a, "127.0.0.1"):
						skip = "it needs a live server at " + a
					case userFile(a):
						skip = "it needs a file of your own, " + a
					}
					expanded = append(expanded, a)
				}
				if skip != "" {
					t.Logf("not run: %s: %s", line, skip)
					continue
				}
				args = expanded
				r := runCmd(t, env, args...)
				if r.code != ExitOK {
					t.Errorf("%s: exit %d:\n%s", line, r.code, r.errOut)
				}
				if strings.Contains(r.errOut, "Warning:") {
					t.Errorf("%s: a Warning:\n%s", line, r.errOut)
				}
				ran[path] = true
			}
		})
	}
	for _, p := range []string{"issue", "lab create", "ca init", "profiles list", "profiles show", "crl", "revoke", "unrevoke",
		"rules list", "verify cert", "verify crl", "verify client-selection", "demo"} {
		if !ran[p] {
			t.Errorf("no example of %s ran", p)
		}
	}
}

// splitExample splits an example line as a shell would: leading VAR=value
// assignments, "cmgpki", then words, where "..." quotes.
func splitExample(t *testing.T, line string) (map[string]string, []string) {
	t.Helper()
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range line {
		switch {
		case r == '"' || r == '\'':
			inQuote, inWord = !inQuote, true
		case r == ' ' && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	env := map[string]string{}
	for len(words) > 0 && strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	if len(words) == 0 || words[0] != "cmgpki" {
		t.Fatalf("example %q does not run cmgpki", line)
	}
	for _, w := range words {
		if strings.ContainsAny(w, "|<>") {
			t.Fatalf("example %q pipes or redirects; it cannot run here", line)
		}
	}
	return env, words[1:]
}

// copyTree copies the regular files and directories below src into dst,
// keeping file modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// userFile reports whether an example argument names a file the reader
// brings (root.cer, a.pfx, pw.txt): a file name that is not in the lab or
// the repository's testdata.
func userFile(a string) bool {
	if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "cmg-lab") || strings.HasPrefix(a, "testdata") || strings.Contains(a, "://") {
		return false
	}
	switch strings.ToLower(filepath.Ext(a)) {
	case ".cer", ".crt", ".pem", ".pfx", ".p12", ".p7b", ".txt", ".key", ".crl", ".der":
		_, err := os.Stat(a)
		return err != nil
	}
	return false
}
