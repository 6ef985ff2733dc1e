package ca

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// psScript is import-windows.ps1 read back: its text (BOM and CRs removed)
// and the tables it was rendered with, parsed as PowerShell reads them.
type psScript struct {
	text            string
	defaultPassword string
	cas, certs      []map[string]string
	secrets         []string
}

func readImportScript(t *testing.T, dir string) *psScript {
	t.Helper()
	return parseImportScript(t, mustRead(t, dir, ImportScriptFile))
}

func parseImportScript(t *testing.T, raw []byte) *psScript {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("\uFEFF")) {
		t.Error("script has no UTF-8 byte order mark: Windows PowerShell 5.1 would read it as ANSI")
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("script has bare LF line ends")
	}
	s := &psScript{text: strings.ReplaceAll(strings.TrimPrefix(string(raw), "\uFEFF"), "\r\n", "\n")}
	lines := strings.Split(s.text, "\n")
	table := func(start string) []string {
		i := slices.Index(lines, start)
		if i < 0 {
			t.Fatalf("script has no line %q", start)
		}
		var rows []string
		for _, l := range lines[i+1:] {
			if l == ")" {
				return rows
			}
			rows = append(rows, l)
		}
		t.Fatalf("table %q not closed", start)
		return nil
	}
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "$DefaultPfxPasswordFile = "); ok {
			s.defaultPassword = psString(t, v)
		}
	}
	s.cas = psRows(t, table("$LabCAs = @("))
	s.certs = psRows(t, table("$LabCertificates = @("))
	for _, l := range table("$LabSecretFiles = @(") {
		s.secrets = append(s.secrets, psString(t, strings.TrimPrefix(l, "  ")))
	}
	return s
}

func isPSQuote(r rune) bool { return r == '\'' || (r >= '\u2018' && r <= '\u201B') }

// psReadString reads one PowerShell single-quoted string at the start of s
// (any of the five quote characters opens and closes it; two in a row are
// one literal quote) and returns its value and the rest.
func psReadString(t *testing.T, s string) (string, string) {
	t.Helper()
	rs := []rune(s)
	if len(rs) == 0 || !isPSQuote(rs[0]) {
		t.Fatalf("not a single-quoted string: %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if isPSQuote(rs[i]) {
			if i+1 < len(rs) && isPSQuote(rs[i+1]) {
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			return b.String(), string(rs[i+1:])
		}
		b.WriteRune(rs[i])
	}
	t.Fatalf("unterminated string: %q", s)
	return "", ""
}

func psString(t *testing.T, s string) string {
	t.Helper()
	v, rest := psReadString(t, s)
	if rest != "" {
		t.Fatalf("text after the string %q: %q", v, rest)
	}
	return v
}

var psKey = regexp.MustCompile(`^([A-Za-z]+) = `)

// psRows parses lines of the form
//
//	[pscustomobject]@{ Key = 'value'; Key2 = 'value' }
func psRows(t *testing.T, lines []string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, "  [pscustomobject]@{ ")
		if !ok {
			t.Fatalf("table row %q", l)
		}
		row := map[string]string{}
		for {
			m := psKey.FindStringSubmatch(rest)
			if m == nil {
				t.Fatalf("row %q: no key at %q", l, rest)
			}
			var v string
			v, rest = psReadString(t, rest[len(m[0]):])
			row[m[1]] = v
			if rest == " }" {
				break
			}
			if rest, ok = strings.CutPrefix(rest, "; "); !ok {
				t.Fatalf("row %q: want '; ' or ' }' at %q", l, rest)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// psBlock returns the text between the braces that follow the first
// occurrence of header (braces inside strings and comments skipped).
func psBlock(t *testing.T, text, header string) string {
	t.Helper()
	i := strings.Index(text, header)
	if i < 0 {
		t.Fatalf("script has no %q", header)
	}
	open := strings.IndexByte(text[i+len(header):], '{')
	if open < 0 {
		t.Fatalf("no block after %q", header)
	}
	start := i + len(header) + open + 1
	depth, quote := 1, byte(0)
	for j := start; j < len(text); j++ {
		c := text[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#':
			for j < len(text) && text[j] != '\n' {
				j++
			}
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return text[start:j]
			}
		}
	}
	t.Fatalf("block after %q not closed", header)
	return ""
}

// checkScriptLogic asserts what every rendered script must do, whatever
// the lab holds.
func checkScriptLogic(t *testing.T, s *psScript) {
	t.Helper()
	txt := s.text
	for _, want := range []string{"#Requires -RunAsAdministrator", "#Requires -Version 5.1"} {
		if !slices.Contains(strings.Split(txt, "\n"), want) {
			t.Errorf("script lacks the line %q", want)
		}
	}
	if m := regexp.MustCompile(`(?im)\b(Set-Location|Push-Location|chdir)\b|(^|[;{|]\s*)(cd|sl)\s`).FindString(txt); m != "" {
		t.Errorf("script changes the caller's location: %q", m)
	}
	param := psBlockParen(t, txt, "[CmdletBinding()]\nparam(")
	for _, p := range []string{"[switch]$CAOnly", "[string[]]$Name", "[switch]$All", "[switch]$List", "[string]$PfxPasswordFile", "[switch]$ProtectKeys"} {
		if !strings.Contains(param, p) {
			t.Errorf("param block lacks %s:\n%s", p, param)
		}
	}
	if strings.Contains(param, "=") {
		t.Errorf("a parameter has a default; the password file default must resolve against $PSScriptRoot, not the caller's directory:\n%s", param)
	}

	// Lab files resolve against the script's directory; -PfxPasswordFile
	// against the caller's; no file means a prompt.
	if !strings.Contains(psBlock(t, txt, "function Get-LabPath"), "Join-Path -Path $PSScriptRoot") {
		t.Error("Get-LabPath does not resolve against $PSScriptRoot")
	}
	pw := psBlock(t, txt, "function Read-LabPfxPassword")
	given := psBlock(t, pw, "if ($PfxPasswordFile)")
	if !strings.Contains(given, "$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($PfxPasswordFile)") || strings.Contains(given, "Get-LabPath") {
		t.Errorf("-PfxPasswordFile is not resolved against the caller's directory:\n%s", given)
	}
	if !strings.Contains(psBlock(t, pw, "if (-not $file)"), "Read-Host -AsSecureString") {
		t.Error("no Read-Host -AsSecureString prompt when there is no password file")
	}

	// Each import is wrapped: the failure names the file, stops, exit 1.
	if n := strings.Count(txt, "Import-PfxCertificate "); n != 1 {
		t.Errorf("Import-PfxCertificate appears %d times, want once (in Import-LabPfx)", n)
	}
	pfx := psBlock(t, txt, "function Import-LabPfx")
	tryPfx := psBlock(t, pfx, "try")
	if !strings.Contains(tryPfx, "Import-PfxCertificate -FilePath $path -CertStoreLocation 'Cert:\\LocalMachine\\My' -Password $password -Exportable") {
		t.Errorf("PFX import is not inside try, into LocalMachine\\My, exportable:\n%s", tryPfx)
	}
	catchPfx := psBlock(t, pfx, "catch")
	for _, want := range []string{"from $path", "$_.Exception.Message", "Server 2016", "--pfx-format legacy", "Stop-LabImport"} {
		if !strings.Contains(catchPfx, want) {
			t.Errorf("PFX catch block lacks %q:\n%s", want, catchPfx)
		}
	}
	caImp := psBlock(t, txt, "function Import-LabCA")
	if !strings.Contains(psBlock(t, caImp, "try"), "Import-Certificate -FilePath $path") || !strings.Contains(psBlock(t, caImp, "catch"), "from $path") {
		t.Errorf("CA import is not wrapped in try/catch naming the file:\n%s", caImp)
	}
	stop := psBlock(t, txt, "function Stop-LabImport")
	if !strings.Contains(stop, "exit 1") {
		t.Errorf("Stop-LabImport does not exit 1:\n%s", stop)
	}

	// By default no PFX is imported: Import-LabPfx runs only over
	// $selected, which starts empty and is filled only by -All (never with
	// wpj-device) or by -Name.
	if n := len(regexp.MustCompile(`Import-LabPfx\b`).FindAllString(txt, -1)); n != 2 {
		t.Errorf("Import-LabPfx appears %d times, want the definition and one call", n)
	}
	if !strings.Contains(psBlock(t, txt, "foreach ($cert in $selected)"), "Import-LabPfx $cert $password") {
		t.Error("Import-LabPfx is not called for the selected certificates")
	}
	all := psBlock(t, txt, "if ($All)")
	name := psBlock(t, txt, "elseif ($Name)")
	rest := strings.Replace(strings.Replace(txt, all, "", 1), name, "", 1)
	if got := regexp.MustCompile(`\$selected \+?= .*`).FindAllString(rest, -1); !slices.Equal(got, []string{"$selected = @()"}) {
		t.Errorf("$selected is set outside -All and -Name: %q", got)
	}
	if !strings.Contains(all, "$_.Role -ne 'wpj-device'") || !strings.Contains(all, "Write-Warning") {
		t.Errorf("-All does not skip wpj-device or does not warn:\n%s", all)
	}
	if !strings.Contains(name, "$selected += $cert[0]") || !strings.Contains(name, "-split ','") {
		t.Errorf("-Name does not select the named certificates:\n%s", name)
	}
	// The logic after the tables names no lab file (the old script had one
	// Import-PfxCertificate line per PFX).
	_, logic, _ := strings.Cut(txt, "\n$LabSecretFiles = @(\n")
	_, logic, _ = strings.Cut(logic, "\n)\n")
	for _, c := range s.certs {
		if c["Pfx"] != "" && strings.Contains(logic, c["Pfx"]) {
			t.Errorf("PFX %s appears outside the certificate table", c["Pfx"])
		}
	}
	if !strings.Contains(psBlock(t, txt, "function Protect-LabKeys"), "& icacls.exe $path /inheritance:r /grant:r '*S-1-5-32-544:F' '*S-1-5-18:F'") {
		t.Error("-ProtectKeys does not grant only Administrators and SYSTEM by SID")
	}
}

// psBlockParen returns the text of the parenthesised list after header.
func psBlockParen(t *testing.T, text, header string) string {
	t.Helper()
	i := strings.Index(text, header)
	if i < 0 {
		t.Fatalf("script has no %q", header)
	}
	rest := text[i+len(header):]
	j := strings.Index(rest, "\n)\n")
	if j < 0 {
		t.Fatalf("%q not closed", header)
	}
	return rest[:j]
}

// checkTablesMatch asserts that the script's tables hold exactly the
// manifest's CAs, certificates and secret files.
func checkTablesMatch(t *testing.T, s *psScript, m *lab.Manifest) {
	t.Helper()
	if len(s.cas) != len(m.CAs) || len(s.certs) != len(m.Certificates) {
		t.Fatalf("script lists %d CAs and %d certificates; manifest %d and %d", len(s.cas), len(s.certs), len(m.CAs), len(m.Certificates))
	}
	for i, e := range m.CAs {
		store := "CA"
		if e.IssuerName == e.Name {
			store = "Root"
		}
		got := s.cas[i]
		if got["Name"] != e.Name || got["Store"] != store || got["File"] != winPath(e.Files.DER) || got["Thumbprint"] != e.SHA1Thumbprint {
			t.Errorf("CA row %v, manifest %s %s %s", got, e.Name, e.Files.DER, e.SHA1Thumbprint)
		}
	}
	var wantSecrets []string
	if m.PFXPasswordFile != "" {
		wantSecrets = append(wantSecrets, m.PFXPasswordFile)
	}
	for _, e := range m.CAs {
		wantSecrets = append(wantSecrets, winPath(e.Files.Key))
	}
	for i, e := range m.Certificates {
		got := s.certs[i]
		if got["Name"] != e.Name || got["Role"] != e.Role || got["Pfx"] != winPath(e.Files.PFX) || got["PfxFormat"] != e.PFXFormat || got["Thumbprint"] != e.SHA1Thumbprint {
			t.Errorf("certificate row %v, manifest %s %s %s %s", got, e.Name, e.Role, e.Files.PFX, e.SHA1Thumbprint)
		}
		wantSecrets = append(wantSecrets, winPath(e.Files.Key))
		if e.Files.PFX != "" {
			wantSecrets = append(wantSecrets, winPath(e.Files.PFX))
		}
	}
	if !slices.Equal(s.secrets, wantSecrets) {
		t.Errorf("secret files %q, want %q", s.secrets, wantSecrets)
	}
	if s.defaultPassword != m.PFXPasswordFile {
		t.Errorf("default password file %q, manifest %q", s.defaultPassword, m.PFXPasswordFile)
	}
}

func TestImportScriptDefaultLab(t *testing.T) {
	dir, m := makeLab(t, nil, LabOptions{})
	s := readImportScript(t, dir)
	checkScriptLogic(t, s)
	checkTablesMatch(t, s, m)
	var pfx []string
	for _, c := range s.certs {
		if c["Pfx"] != "" {
			pfx = append(pfx, c["Role"])
		}
	}
	if !slices.Equal(pfx, []string{"cmg-server", "mp-https", "cmg-connection-point", "pki-client", "wpj-device"}) {
		t.Errorf("PFX rows for roles %v", pfx)
	}
	if s.defaultPassword != "pfx-password.txt" {
		t.Errorf("default password file %q", s.defaultPassword)
	}
	psParseCheck(t, filepath.Join(dir, ImportScriptFile))
}

// ca init, then issue: the script lists each new PFX; issue --force
// updates the row; a lab whose script is missing gets one.
func TestImportScriptAfterIssue(t *testing.T) {
	dir, m := makeLab(t, &LabSpec{CAOnly: true}, LabOptions{})
	s := readImportScript(t, dir)
	checkScriptLogic(t, s)
	checkTablesMatch(t, s, m)
	if len(s.certs) != 0 {
		t.Fatalf("ca init script lists certificates: %v", s.certs)
	}
	l, err := OpenLab(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := IssueOptions{Clock: clock.Fixed(pkitest.At)}
	if _, err := l.Issue(ctx, CertSpec{Name: "client02", Profile: "pki-client", CN: "client02.contoso.com"}, opts); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ImportScriptFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Issue(ctx, CertSpec{Name: "mp02", Profile: "mp-https", CN: "mp02.contoso.com"}, opts); err != nil {
		t.Fatal(err)
	}
	opts.Force = true
	if _, err := l.Issue(ctx, CertSpec{Name: "client02", Profile: "pki-client", CN: "client02.corp.contoso.com"}, opts); err != nil {
		t.Fatal(err)
	}
	m, err = lab.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	s = readImportScript(t, dir)
	checkScriptLogic(t, s)
	checkTablesMatch(t, s, m)
	var names []string
	for _, c := range s.certs {
		names = append(names, c["Name"]+" "+c["Pfx"])
	}
	if want := []string{`client02 certs\client02.pfx`, `mp02 certs\mp02.pfx`}; !slices.Equal(names, want) {
		t.Errorf("script certificates %q, want %q", names, want)
	}
	if c := s.certs[0]; c["Subject"] != "CN=client02.corp.contoso.com" {
		t.Errorf("after issue --force the script still has %s", c["Subject"])
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".import-windows.ps1.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	psParseCheck(t, filepath.Join(dir, ImportScriptFile))
}

// A lab made with the user's own PFX password has no password file: the
// script has no default and prompts.
func TestImportScriptOwnPassword(t *testing.T) {
	dir, m := makeLab(t, nil, LabOptions{PFXPassword: "my-own-secret"})
	if m.PFXPasswordFile != "" {
		t.Fatalf("manifest names a password file %q", m.PFXPasswordFile)
	}
	s := readImportScript(t, dir)
	checkScriptLogic(t, s)
	checkTablesMatch(t, s, m)
	if s.defaultPassword != "" || slices.Contains(s.secrets, "pfx-password.txt") {
		t.Errorf("default password file %q, secrets %q", s.defaultPassword, s.secrets)
	}
	if strings.Contains(s.text, "my-own-secret") {
		t.Error("the PFX password is in the script")
	}
	psParseCheck(t, filepath.Join(dir, ImportScriptFile))
}

// Odd values (quotes of every kind PowerShell knows, $(...), newlines,
// non-ASCII) come back unchanged from the script's tables, and the script
// still parses.
func TestImportScriptQuoting(t *testing.T) {
	odd := []string{
		"it's", "l'été ‘quoted’ ‚low‛", "$(Remove-Item C:\\ -Recurse)", `"; exit 7; "`, "ё D1 91 in UTF-8", "a''b",
	}
	m := &lab.Manifest{Schema: lab.Schema, PFXPasswordFile: "o'neil pw.txt"}
	for i, v := range odd {
		m.Certificates = append(m.Certificates, lab.Entry{
			Name: fmt.Sprintf("c%d", i), Role: "pki-client", Subject: "CN=" + v,
			Files: lab.Files{Key: "certs/" + v + ".key", PFX: "certs/" + v + ".pfx"}, PFXFormat: "modern",
		})
	}
	m.CAs = []lab.Entry{{Name: "root-ca", IssuerName: "root-ca", Role: "root-ca", Subject: "CN=line1\nline2\r\u2028",
		Files: lab.Files{DER: "ca/root'ca.cer", Key: "ca/root'ca.key"}}}
	path := filepath.Join(t.TempDir(), ImportScriptFile)
	if err := os.WriteFile(path, ImportScript(m), 0o644); err != nil {
		t.Fatal(err)
	}
	s := readImportScript(t, filepath.Dir(path))
	checkTablesMatch(t, s, m)
	for i, v := range odd {
		if got := s.certs[i]["Subject"]; got != "CN="+v {
			t.Errorf("subject %q came back as %q", "CN="+v, got)
		}
	}
	if got := s.cas[0]["Subject"]; got != "CN=line1?line2??" {
		t.Errorf("control characters: %q", got)
	}
	psParseCheck(t, path)
}

// psParser returns node and the check script of the PowerShell parse check
// (ca/testdata/psparse: the tree-sitter PowerShell grammar as WASM; pwsh
// cannot be installed from the registries CI reaches). Without node or the
// npm packages the test skips, unless CI=true and .ci/run installs them.
func psParser(t *testing.T) (node, check string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("testdata", "psparse", "node_modules", "web-tree-sitter", "package.json"))
	}
	if err != nil {
		ci, _ := os.ReadFile(filepath.Join("..", ".ci", "run"))
		if os.Getenv("CI") != "" && bytes.Contains(ci, []byte("testdata/psparse")) {
			t.Fatalf("PowerShell parse check: %v; .ci/run must install node and the npm packages of ca/testdata/psparse", err)
		}
		t.Skipf("PowerShell parse check skipped: %v (install: npm ci --prefix ca/testdata/psparse --ignore-scripts --legacy-peer-deps)", err)
	}
	return node, filepath.Join("testdata", "psparse", "check.cjs")
}

// psParseCheck fails the test if a script does not parse as PowerShell.
func psParseCheck(t *testing.T, paths ...string) {
	t.Helper()
	t.Run("parse", func(t *testing.T) {
		node, check := psParser(t)
		if out, err := exec.Command(node, append([]string{check}, paths...)...).CombinedOutput(); err != nil {
			t.Errorf("PowerShell parse check: %v\n%s", err, out)
		}
	})
}

// The parse check finds syntax errors, so its passing means something.
func TestPSParseCheckCatchesErrors(t *testing.T) {
	node, check := psParser(t)
	ok := string(ImportScript(&lab.Manifest{Schema: lab.Schema}))
	bad := strings.Replace(ok, "function Get-LabPath([string]$Relative) {", "function Get-LabPath([string]$Relative) ", 1)
	if bad == ok {
		t.Fatal("Get-LabPath not found in the script")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"ok.ps1": ok, "bad.ps1": bad} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(node, check, filepath.Join(dir, "ok.ps1")).CombinedOutput(); err != nil {
		t.Errorf("the script of an empty lab fails the parse check: %v\n%s", err, out)
	}
	out, err := exec.Command(node, check, filepath.Join(dir, "bad.ps1")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.ps1:") {
		t.Errorf("a script with a missing brace passed the parse check: %v\n%s", err, out)
	}
}
