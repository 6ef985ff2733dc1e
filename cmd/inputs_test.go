package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/spf13/cobra"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// caInit makes a lab with CAs only (and a generated PFX password).
func caInit(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, append([]string{"ca", "init", "--out", dir}, args...)...); r.code != ExitOK {
		t.Fatalf("ca init: exit %d: %s", r.code, r.errOut)
	}
	return dir
}

// wantUsage checks exit 2, that stderr names every want, and that it
// names none of notWant.
func wantUsage(t *testing.T, r result, want []string, notWant ...string) {
	t.Helper()
	if r.code != ExitUsage {
		t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.errOut)
	}
	for _, w := range want {
		if !strings.Contains(r.errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
		}
	}
	for _, w := range notWant {
		if strings.Contains(r.errOut, w) {
			t.Errorf("stderr has %q:\n%s", w, r.errOut)
		}
	}
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIssueErrorsNameTheirFlag: a bad --cn, --san or PROFILE is blamed on
// itself, never on --name; an IP address is not a DNS SAN; an impossible or
// negative --validity and a broken --template are exit 2 naming the flag
// (and file); nothing is written.
func TestIssueErrorsNameTheirFlag(t *testing.T) {
	lab := caInit(t)
	base := t.TempDir()
	brokenTpl := writeFile(t, base, "broken.tpl", `{"subject": {{ .Subject | toJson }`)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad CN", []string{"mp-https", "--cn", "bad..contoso.com"}, []string{"--cn:", `label ""`}},
		{"bad SAN", []string{"mp-https", "--cn", "dp01.contoso.com", "--san", "a..contoso.com"}, []string{"--san:", `"a..contoso.com"`}},
		{"IP address as SAN", []string{"mp-https", "--cn", "dp01.contoso.com", "--san", "10.0.0.1"}, []string{"--san:", `"10.0.0.1" is an IP address`, "FQDN"}},
		{"IPv6 address as SAN", []string{"pki-client", "--cn", "c.contoso.com", "--san", "fe80::1"}, []string{"--san:", "is an IP address"}},
		{"IP address as CN", []string{"mp-https", "--cn", "192.168.1.10"}, []string{"--cn:", "is an IP address"}},
		{"IP address as SAN of an OCSP signer", []string{"ocsp-signer", "--cn", "Lab OCSP", "--san", "10.0.0.1"}, []string{"--san:", "is an IP address"}},
		{"CA profile", []string{"root-ca", "--cn", "x"}, []string{"PROFILE argument:", "is a CA profile"}},
		{"unknown profile", []string{"web", "--cn", "x"}, []string{"PROFILE argument:", `unknown profile "web"`}},
		{"validity beyond the issuer", []string{"mp-https", "--cn", "dp01.contoso.com", "--validity", "1000000h"}, []string{"--validity:", "after its issuer issuing-ca", "at most 43800h"}},
		{"negative validity", []string{"mp-https", "--cn", "dp01.contoso.com", "--validity", "-5h"}, []string{"--validity:", "negative"}},
		{"broken template", []string{"mp-https", "--cn", "dp01.contoso.com", "--template", brokenTpl}, []string{"--template " + brokenTpl + ":"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append(append([]string{"issue"}, tc.args...), "--lab", lab, "--name", "x1")...)
			wantUsage(t, r, tc.want, "--name")
			if _, err := os.Stat(filepath.Join(lab, "certs", "x1.crt")); err == nil {
				t.Error("certs/x1.crt was written")
			}
		})
	}
}

// TestLabSpecErrors: spec typos, a second document, bad validities and IP
// SANs in a spec are exit 2 naming the file and the line or key.
func TestLabSpecErrors(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "lab")
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"typo", "domain: contoso.com\n\nclinets: 3\n", []string{`lab.yaml: line 3: unknown key "clinets" (did you mean "clients"?)`}},
		{"nested typo", "certificates:\n  - name: sup01\n    profle: mp-https\n", []string{`line 3: unknown key "profle" in certificates[0] (did you mean "profile"?)`}},
		{"unknown key lists the valid ones", "colour: blue\n", []string{`unknown key "colour"`, "valid keys: base_url, ca_key_type, certificates"}},
		{"second document", "domain: contoso.com\n---\nclients: 3\n", []string{"lab.yaml: line 2: a second YAML document", "one document"}},
		{"negative validity", "certificates:\n  - name: sup01\n    profile: mp-https\n    cn: sup01.contoso.com\n    validity: -1h\n", []string{"lab.yaml: certificates[0].validity:", "negative"}},
		{"validity beyond the issuer", "certificates:\n  - name: sup01\n    profile: mp-https\n    cn: sup01.contoso.com\n    validity: 900000h\n", []string{"lab.yaml: certificates[0].validity:", "after its issuer issuing-ca"}},
		{"IP address in mp.sans", "mp:\n  sans: [mp.contoso.com, 10.0.0.5]\n", []string{"lab.yaml: mp.sans:", `"10.0.0.5" is an IP address`}},
		{"IP address in certificates[].sans", "certificates:\n  - name: sup01\n    profile: mp-https\n    cn: sup01.contoso.com\n    sans: [10.0.0.6]\n", []string{"lab.yaml: certificates[0].sans:", "is an IP address"}},
		{"type error names the line", "clients: many\n", []string{"lab.yaml: line 1: cannot unmarshal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := writeFile(t, t.TempDir(), "lab.yaml", tc.spec)
			r := runCmd(t, nil, "lab", "create", "--out", out, "--spec", spec)
			wantUsage(t, r, tc.want, "ca.LabSpec")
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
				os.RemoveAll(out)
			}
		})
	}
	// A flag over a spec key is blamed as the flag.
	r := runCmd(t, nil, "lab", "create", "--out", out, "--mp-san", "10.0.0.1")
	wantUsage(t, r, []string{"--mp-san:", "is an IP address"})
	broken := writeFile(t, base, "broken.tpl", `{"subject": {{ .Subject }`)
	r = runCmd(t, nil, "lab", "create", "--out", out, "--devices", "0", "--template", broken)
	wantUsage(t, r, []string{"--template " + broken + ":"})
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created with a broken template", out)
	}
}

// TestLabCreateOutErrorNamesOut: a --out where no lab can be made is named
// as given, not as the temporary directory beside it.
func TestLabCreateOutErrorNamesOut(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux")
	}
	r := runCmd(t, nil, "lab", "create", "--out", "/proc/lab")
	if r.code == ExitOK || !strings.Contains(r.errOut, "--out /proc/lab") || strings.Contains(r.errOut, ".cmgpki-lab-") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.errOut)
	}
}

// TestUnknownSubcommandSuggests: a mistyped subcommand is named, with
// cobra's suggestion, even when flags follow it; exit 2.
func TestUnknownSubcommandSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"lab", "craete", "--out", "x"}, []string{`unknown command "craete" for "cmgpki lab"`, "Did you mean this?\n\tcreate"}},
		{[]string{"lab", "craete"}, []string{`unknown command "craete" for "cmgpki lab"`, "Did you mean this?\n\tcreate"}},
		{[]string{"ca", "int", "--out", "x"}, []string{`unknown command "int" for "cmgpki ca"`, "Did you mean this?\n\tinit"}},
		{[]string{"profiles", "shwo", "cmg-server"}, []string{`unknown command "shwo" for "cmgpki profiles"`, "Did you mean this?\n\tshow"}},
		{[]string{"profiles", "frobnicate"}, []string{`unknown command "frobnicate" for "cmgpki profiles" (available: list, show)`}},
		{[]string{"isue", "--lab", "x"}, []string{`unknown command "isue" for "cmgpki"`, "Did you mean this?\n\tissue"}},
	} {
		r := runCmd(t, nil, tc.args...)
		wantUsage(t, r, tc.want, "unknown flag")
	}
	if r := runCmd(t, nil, "lab"); r.code != ExitOK || !strings.Contains(r.out, "Available Commands") {
		t.Errorf("lab without a subcommand: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
}

func utf16LEWithBOM(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// TestPasswordFileEncodings: a password file as PowerShell 5.1 writes it
// (UTF-16 LE with a BOM, CRLF) protects the PFX with the password typed, as
// openssl confirms; a file that cannot be decoded is refused, naming it.
func TestPasswordFileEncodings(t *testing.T) {
	pkitest.OpenSSL(t)
	base := t.TempDir()
	pwFile := writeFile(t, base, "pw.txt", utf16LEWithBOM("S3cret-Lab-pw\r\n"))
	dir := filepath.Join(base, "lab")
	r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--pfx-password-file", pwFile)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	for _, pfx := range []string{"client01.pfx", "cmg-server.pfx"} {
		if out, err := pkitest.Run(t, "pkcs12", "-in", filepath.Join(dir, "certs", pfx), "-passin", "pass:S3cret-Lab-pw", "-noout"); err != nil {
			t.Errorf("openssl pkcs12 %s with the typed password: %v\n%s", pfx, err, out)
		}
	}
	// The lab's own generated password file, UTF-8 BOM and all, is read the same way by issue.
	utf8BOM := writeFile(t, base, "bom.txt", "\xEF\xBB\xBFS3cret-Lab-pw\n")
	if r := runCmd(t, nil, "issue", "pki-client", "--lab", dir, "--name", "client09", "--cn", "client09.contoso.com", "--pfx-password-file", utf8BOM); r.code != ExitOK {
		t.Fatalf("issue with a UTF-8 BOM password file: exit %d: %s", r.code, r.errOut)
	}
	if _, _, _, err := decodePFX(filepath.Join(dir, "certs", "client09.pfx"), "S3cret-Lab-pw"); err != nil {
		t.Errorf("client09.pfx: %v", err)
	}

	noBOM := writeFile(t, base, "nobom.txt", "S\x003\x00c\x00r\x00")
	out := filepath.Join(base, "lab2")
	r = runCmd(t, nil, "lab", "create", "--out", out, "--pfx-password-file", noBOM)
	wantUsage(t, r, []string{"--pfx-password-file", noBOM, "NUL bytes"})
	if _, err := os.Stat(out); err == nil {
		t.Error("a lab was made with an undecodable password file")
	}
}

// TestFindingsAreShown: lint notices and warnings are printed on stderr and
// listed in the JSON (issue/v1 "findings", the manifest entry's "findings").
func TestFindingsAreShown(t *testing.T) {
	labDir := caInit(t)
	r := runCmd(t, nil, "issue", "mp-https", "--lab", labDir, "--name", "dp01", "--cn", "dp01.contoso.com", "--san", "dp01.corp.contoso.com", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.errOut, "Warning: dp01: w_cn_not_in_san: ") || !strings.Contains(r.errOut, "([SAC] ") {
		t.Errorf("stderr lacks the warning:\n%s", r.errOut)
	}
	var got struct {
		Schema   string `json:"schema"`
		Findings []struct {
			Rule, Status string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got.Findings) != 1 || got.Findings[0].Rule != "w_cn_not_in_san" || got.Findings[0].Status != "warn" {
		t.Errorf("issue JSON findings: %v %+v\n%s", err, got, r.out)
	}
	m, err := lab.ReadManifest(labDir)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := m.Find("dp01"); len(e.Findings) != 1 {
		t.Errorf("manifest entry findings: %+v", e.Findings)
	}
	// No findings: an empty array, never null.
	r = runCmd(t, nil, "issue", "pki-client", "--lab", labDir, "--name", "c1", "--cn", "c1.contoso.com", "--output", "json")
	if r.code != ExitOK || !strings.Contains(r.out, `"findings": []`) || strings.Contains(r.errOut, "Warning:") {
		t.Errorf("issue without findings: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}

	dir := filepath.Join(t.TempDir(), "wild")
	r = runCmd(t, nil, "lab", "create", "--out", dir, "--cmg-name", "*.contoso.com", "--devices", "0", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("lab create: exit %d: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.errOut, "Note: cmg-server: n_cmg_wildcard_needs_prefix: ") {
		t.Errorf("stderr lacks the notice:\n%s", r.errOut)
	}
	var lm lab.Manifest
	if err := json.Unmarshal([]byte(r.out), &lm); err != nil {
		t.Fatal(err)
	}
	if e, _ := lm.Find("cmg-server"); len(e.Findings) != 1 || e.Findings[0].Rule != "n_cmg_wildcard_needs_prefix" {
		t.Errorf("cmg-server findings in the manifest: %+v", e.Findings)
	}
	if e, _ := lm.Find("mp-https"); e.Findings != nil {
		t.Errorf("mp-https has findings: %+v", e.Findings)
	}
}

// TestKeyTypeNotes: a key type that WPJ certificates cannot take is said in
// a Note, and ca init's EC help example makes what it says.
func TestKeyTypeNotes(t *testing.T) {
	base := t.TempDir()

	// A lab-wide --key-type that WPJ devices cannot take: a Note citing [DVRJ].
	dir := filepath.Join(base, "rsa4096")
	r := runCmd(t, nil, "lab", "create", "--out", dir, "--key-type", "rsa4096", "--clients", "0")
	if r.code != ExitOK || !strings.Contains(r.errOut, "Note: --key-type rsa4096 does not apply to wpj-device certificates: they are rsa2048") || !strings.Contains(r.errOut, "[DVRJ]") {
		t.Errorf("lab create --key-type rsa4096: exit %d\n%s", r.code, r.errOut)
	}
	// An EC CA key type: the WPJ CA stays RSA, and a Note says so.
	r = runCmd(t, nil, "ca", "init", "--out", filepath.Join(base, "p384"), "--key-type", "p384")
	if r.code != ExitOK || !strings.Contains(r.errOut, "Note: the wpj-ca is rsa2048: --key-type p384 does not apply to it") {
		t.Errorf("ca init --key-type p384: exit %d\n%s", r.code, r.errOut)
	}
	// The EC example in ca init's help works without a surprise.
	help := runCmd(t, nil, "ca", "init", "--help").out
	const example = "cmgpki ca init --out ec-ca --key-type p384 --no-issuing-ca --no-wpj-ca"
	if !strings.Contains(help, example) {
		t.Fatalf("ca init help lacks %q:\n%s", example, help)
	}
	args := strings.Fields(strings.TrimPrefix(example, "cmgpki "))
	args[3] = filepath.Join(base, "ec-ca")
	r = runCmd(t, nil, args...)
	if r.code != ExitOK || strings.Contains(r.errOut, "Note: the wpj-ca") {
		t.Errorf("help example: exit %d\n%s", r.code, r.errOut)
	}
	if m, err := lab.ReadManifest(args[3]); err != nil || len(m.CAs) != 1 || m.CAs[0].KeyType != "p384" {
		t.Errorf("help example made %+v, %v", m, err)
	}

}

// TestPFXPasswordMustMatchLab: issue refuses a PFX password that differs
// from the lab's generated one, naming where it came from.
func TestPFXPasswordMustMatchLab(t *testing.T) {
	base := t.TempDir()
	lab := caInit(t)
	r := runCmd(t, map[string]string{"CMGPKI_PFX_PASSWORD": "not-the-labs"}, "issue", "pki-client", "--lab", lab, "--name", "c1", "--cn", "c1.contoso.com")
	wantUsage(t, r, []string{"CMGPKI_PFX_PASSWORD", "differs", "pfx-password.txt"})
	other := writeFile(t, base, "other.txt", "not-the-labs\n")
	r = runCmd(t, nil, "issue", "pki-client", "--lab", lab, "--name", "c1", "--cn", "c1.contoso.com", "--pfx-password-file", other)
	wantUsage(t, r, []string{"--pfx-password-file " + other, "differs"})
	if _, err := os.Stat(filepath.Join(lab, "certs", "c1.pfx")); err == nil {
		t.Error("a PFX with another password was written")
	}
	labPW, _ := os.ReadFile(filepath.Join(lab, "pfx-password.txt"))
	r = runCmd(t, map[string]string{"CMGPKI_PFX_PASSWORD": strings.TrimSpace(string(labPW))}, "issue", "pki-client", "--lab", lab, "--name", "c1", "--cn", "c1.contoso.com")
	if r.code != ExitOK {
		t.Errorf("the lab's own password: exit %d: %s", r.code, r.errOut)
	}
	// A lab made with the user's password takes it (and needs it).
	own := filepath.Join(base, "own")
	env := map[string]string{"CMGPKI_PFX_PASSWORD": "users-own"}
	if r := runCmd(t, env, "ca", "init", "--out", own); r.code != ExitOK {
		t.Fatal(r.errOut)
	}
	if r := runCmd(t, env, "issue", "pki-client", "--lab", own, "--name", "c1", "--cn", "c1.contoso.com"); r.code != ExitOK {
		t.Errorf("own-password lab: exit %d: %s", r.code, r.errOut)
	}

}

// TestHoldExcludesOtherReasons: --hold with another --reason is refused
// rather than dropping the reason; --reason certificateHold is a hold.
func TestHoldExcludesOtherReasons(t *testing.T) {
	lab := caInit(t)
	if r := runCmd(t, nil, "issue", "pki-client", "--lab", lab, "--name", "c1", "--cn", "c1.contoso.com"); r.code != ExitOK {
		t.Fatal(r.errOut)
	}
	cert := filepath.Join(lab, "certs", "c1.crt")
	r := runCmd(t, nil, "revoke", "--lab", lab, "--cert", cert, "--hold", "--reason", "keyCompromise")
	wantUsage(t, r, []string{"--hold and --reason keyCompromise are exclusive", "certificateHold"})
	if r := runCmd(t, nil, "unrevoke", "--lab", lab, "--cert", cert); !strings.Contains(r.errOut, "was not revoked; nothing changed") {
		t.Errorf("the refused revoke changed the record: %s", r.errOut)
	}
	if r := runCmd(t, nil, "revoke", "--lab", lab, "--cert", cert, "--hold", "--reason", "certificateHold"); r.code != ExitOK {
		t.Errorf("--hold --reason certificateHold: exit %d: %s", r.code, r.errOut)
	}
	if r := runCmd(t, nil, "unrevoke", "--lab", lab, "--cert", cert); r.code != ExitOK {
		t.Errorf("unrevoke: exit %d: %s", r.code, r.errOut)
	}
	r = runCmd(t, nil, "revoke", "--lab", lab, "--cert", cert, "--reason", "certificateHold", "--output", "json")
	if r.code != ExitOK || !strings.Contains(r.out, `"reason": "certificateHold"`) {
		t.Errorf("--reason certificateHold: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
}

// TestHelpListsOnlyReachableExitCodes: no command produces findings (1)
// yet, so no help lists it; every command with exit codes lists 0 and 2.
func TestHelpListsOnlyReachableExitCodes(t *testing.T) {
	root := newRootCmd(&Factory{})
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		r := runCmd(t, nil, args...)
		// Only checking commands (those with --fail-on) exit 1.
		if strings.Contains(r.out, "1  findings") && c.Flags().Lookup("fail-on") == nil && c.Name() != "verify" {
			t.Errorf("%s help lists exit code 1:\n%s", c.CommandPath(), r.out)
		}
		if strings.Contains(r.out, "Exit codes:") {
			seen++
			if !strings.Contains(r.out, "0  success") || !strings.Contains(r.out, "2  usage or input error") {
				t.Errorf("%s help lacks codes 0 and 2:\n%s", c.CommandPath(), r.out)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if seen < 9 {
		t.Errorf("only %d commands' help has Exit codes", seen)
	}
	if got := exitCodesHelp(ExitOK, ExitUsage); strings.Contains(got, "3  ") || !strings.HasPrefix(got, "Exit codes:\n  0  success\n  2  ") {
		t.Errorf("exitCodesHelp(0, 2) = %q", got)
	}
}

// TestVersion: --version and "version" print the version, the Go version
// and platform; build info supplies module version and VCS stamp, and
// -ldflags -X ...cmd.version overrides the version.
func TestVersion(t *testing.T) {
	r := runCmd(t, nil, "--version")
	if r.code != ExitOK || !strings.HasPrefix(r.out, "cmgpki ") || !strings.Contains(r.out, runtime.Version()) || !strings.Contains(r.out, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("--version: exit %d %q %q", r.code, r.out, r.errOut)
	}
	r2 := runCmd(t, nil, "version")
	if r2.code != ExitOK || r2.out != r.out {
		t.Errorf("version = %q, --version = %q", r2.out, r.out)
	}
	r = runCmd(t, nil, "version", "--output", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Schema != "cmgpki/version/v1" || v.Go == "" || v.Version == "" {
		t.Errorf("version JSON: %v %s", err, r.out)
	}

	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/cmgpki/cmgpki", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := buildVersion(bi, "").String()
	if want := "v1.4.0 (commit 0123456789ab, 2026-11-30T10:00:00Z, modified) go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH; got != want {
		t.Errorf("buildVersion = %q, want %q", got, want)
	}
	if got := buildVersion(bi, "v2.0.0-rc1").Version; got != "v2.0.0-rc1" {
		t.Errorf("-ldflags version ignored: %q", got)
	}
	if got := buildVersion(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "").Version; got != "devel" {
		t.Errorf("source build version %q", got)
	}
}
