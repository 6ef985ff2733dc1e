package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

type result struct {
	code        ExitCode
	out, errOut string
}

func runCmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Clock:  clock.Fixed(pkitest.At),
		Rand:   rand.Reader,
		Getenv: func(k string) string { return env[k] },
	}
	code := run(context.Background(), f, args)
	return result{code, out.String(), errOut.String()}
}

func TestLabCreateDefault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cmg-lab")
	r := runCmd(t, nil, "lab", "create", "--out", dir)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	for _, want := range []string{"ROLE", "SHA-1 THUMBPRINT", "cmg-server", "CN=cmg.contoso.com", "mp.contoso.com, mp01.corp.contoso.com", "certs/cmg-server.pfx", "wpj-device"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("table lacks %q:\n%s", want, r.out)
		}
	}
	for _, want := range []string{"Made 3 CAs and 5 certificates", "Next: run \"cmgpki serve --lab"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	if strings.Contains(r.out, "Next:") || strings.Contains(r.errOut, "ROLE") {
		t.Error("results and notes are on the wrong streams")
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "pfx-password.txt"))
	if bytes.Contains([]byte(r.out+r.errOut), bytes.TrimSpace(pw)) {
		t.Error("the PFX password was printed")
	}
}

func TestLabCreateJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	r := runCmd(t, map[string]string{"CMGPKI_PFX_PASSWORD": "from-env"}, "lab", "create", "--out", dir, "--output", "json", "--clients", "2", "--devices", "0", "--pfx-format", "modern")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var m lab.Manifest
	if err := json.Unmarshal([]byte(r.out), &m); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.out)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(r.out) != strings.TrimSpace(string(onDisk)) {
		t.Error("--output json differs from manifest.json")
	}
	if m.PFXPasswordFile != "" || len(m.Certificates) != 5 || m.Certificates[0].PFXFormat != "modern" {
		t.Errorf("manifest: password file %q, %d certificates, cmg pfx %q", m.PFXPasswordFile, len(m.Certificates), m.Certificates[0].PFXFormat)
	}
	if _, err := os.Stat(filepath.Join(dir, "pfx-password.txt")); err == nil {
		t.Error("a password file was written although the password came from the environment")
	}
	if _, _, _, err := decodePFX(filepath.Join(dir, "certs", "client01.pfx"), "from-env"); err != nil {
		t.Errorf("PFX does not open with the environment password: %v", err)
	}
}

// TestBadInput: each case gets a message naming the flag or file, exit code
// 2, and leaves nothing written.
func TestBadInput(t *testing.T) {
	base := t.TempDir()
	existing := filepath.Join(base, "existing")
	os.Mkdir(existing, 0o755)
	os.WriteFile(filepath.Join(existing, "keep.txt"), []byte("keep"), 0o644)
	withKeys := filepath.Join(base, "withkeys")
	if r := runCmd(t, nil, "ca", "init", "--out", withKeys); r.code != ExitOK {
		t.Fatalf("ca init: %s", r.errOut)
	}
	keyBefore, _ := os.ReadFile(filepath.Join(withKeys, "ca", "root-ca.key"))
	unknownKey := filepath.Join(base, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("domain: contoso.com\ncmg_nmae: x\n"), 0o644)
	badValue := filepath.Join(base, "bad.yaml")
	os.WriteFile(badValue, []byte("cmg:\n  cn: cmg-01.contoso.com\n"), 0o644)
	os.WriteFile(filepath.Join(base, "good.yaml"), []byte("domain: fabrikam.com\n"), 0o644)
	unreadable := filepath.Join(base, "unreadable.yaml") // a directory: unreadable even for root
	os.Mkdir(unreadable, 0o755)
	out := filepath.Join(base, "new")

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown profile", []string{"issue", "nope", "--lab", withKeys, "--name", "x"}, []string{`unknown profile "nope"`}},
		{"unknown key type", []string{"lab", "create", "--out", out, "--key-type", "rsa1024"}, []string{"--key-type", `unknown key type "rsa1024"`}},
		{"forbidden key type", []string{"lab", "create", "--out", out, "--key-type", "rsa3072"}, []string{"--key-type", "profile cmg-server does not allow key type rsa3072", "rsa2048, rsa4096", "[SAC]"}},
		{"forbidden key type on issue", []string{"issue", "cmg-server", "--lab", withKeys, "--name", "c", "--cn", "cmg.contoso.com", "--key-type", "p256"}, []string{"--key-type", "does not allow key type p256"}},
		{"invalid DNS name", []string{"lab", "create", "--out", out, "--mp-name", "mp..contoso.com"}, []string{"--mp-name", `label ""`}},
		{"wildcard in the wrong place", []string{"lab", "create", "--out", out, "--cmg-name", "cmg.*.contoso.com"}, []string{"--cmg-name", "whole leftmost label"}},
		{"wildcard on a role without", []string{"issue", "pki-client", "--lab", withKeys, "--name", "c", "--cn", "*.contoso.com"}, []string{"does not allow wildcards"}},
		{"CMG prefix with a dash", []string{"lab", "create", "--out", out, "--cmg-name", "cmg-01.contoso.com"}, []string{"--cmg-name", `first label "cmg-01" must be 3-24 lower-case letters and digits, no dash`}},
		{"existing output directory", []string{"lab", "create", "--out", existing}, []string{"--out", "already exists and is not a cmgpki lab: no manifest.json"}},
		{"CA keys with --force", []string{"lab", "create", "--out", withKeys, "--force"}, []string{"--out", "never overwrites a CA key"}},
		{"ca init over CA keys", []string{"ca", "init", "--out", withKeys}, []string{"already exists (a cmgpki lab with CA keys); choose another --out"}},
		{"missing spec", []string{"lab", "create", "--out", out, "--spec", filepath.Join(base, "missing.yaml")}, []string{"missing.yaml", "no such file"}},
		{"unreadable spec", []string{"lab", "create", "--out", out, "--spec", unreadable}, []string{"unreadable.yaml", "is a directory"}},
		{"unknown spec key", []string{"lab", "create", "--out", out, "--spec", unknownKey}, []string{"unknown.yaml", "cmg_nmae"}},
		{"bad spec value", []string{"lab", "create", "--out", out, "--spec", badValue}, []string{"bad.yaml: cmg.cn", `"cmg-01"`}},
		{"bad flag over a spec", []string{"lab", "create", "--out", out, "--spec", filepath.Join(base, "good.yaml"), "--cp-name", "cp..corp"}, []string{"--cp-name", `label ""`}},
		{"bad output format", []string{"lab", "create", "--out", out, "--output", "xml"}, []string{"--output", `"xml"`}},
		{"bad not-before", []string{"lab", "create", "--out", out, "--not-before", "yesterday"}, []string{"--not-before", "RFC 3339"}},
		{"reproducible without keys", []string{"lab", "create", "--out", out, "--reproducible", "--not-before", "2026-01-01T00:00:00Z"}, []string{"--keys"}},
		{"unknown flag", []string{"lab", "create", "--out", out, "--colour"}, []string{"unknown flag: --colour", "Usage:"}},
		{"bad base URL", []string{"lab", "create", "--out", out, "--base-url", "https://pki.contoso.com"}, []string{"--base-url", "scheme must be http"}},
		{"missing password file", []string{"lab", "create", "--out", out, "--pfx-password-file", filepath.Join(base, "nope.txt")}, []string{"--pfx-password-file", "nope.txt"}},
		{"unknown command", []string{"lab", "destroy"}, []string{"destroy"}},
		{"unknown top-level command", []string{"destroy"}, []string{"destroy"}},
		{"profiles show unknown", []string{"profiles", "show", "web"}, []string{`unknown profile "web"`}},
		{"issue without lab", []string{"issue", "pki-client", "--name", "x"}, []string{"--lab is required"}},
		{"issue into a non-lab", []string{"issue", "pki-client", "--lab", existing, "--name", "x", "--cn", "x.contoso.com"}, []string{"--lab", "not a cmgpki lab directory"}},
		{"negative clients", []string{"lab", "create", "--out", out, "--clients", "-1"}, []string{"--clients", "between 0 and 100000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
				}
			}
			if !strings.HasPrefix(r.errOut, "Error: ") {
				t.Errorf("stderr does not start with Error: %q", r.errOut)
			}
			if r.out != "" {
				t.Errorf("stdout is not empty: %q", r.out)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
				os.RemoveAll(out)
			}
			left, _ := filepath.Glob(filepath.Join(base, ".cmgpki-lab-*"))
			left2, _ := filepath.Glob(filepath.Join(withKeys, ".issue-*"))
			if len(left)+len(left2) > 0 {
				t.Errorf("temporary directories left: %v %v", left, left2)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(existing, "keep.txt")); string(b) != "keep" {
		t.Error("the existing directory was changed")
	}
	if after, _ := os.ReadFile(filepath.Join(withKeys, "ca", "root-ca.key")); !bytes.Equal(after, keyBefore) {
		t.Error("a CA key was overwritten")
	}
}

func TestCAInitThenIssue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my-ca")
	if r := runCmd(t, nil, "ca", "init", "--out", dir, "--key-type", "p384"); r.code != ExitOK {
		t.Fatalf("ca init: %s", r.errOut)
	}
	m, err := lab.ReadManifest(dir)
	if err != nil || len(m.CAs) != 3 || len(m.Certificates) != 0 || m.CAs[0].KeyType != "p384" || m.CAs[2].KeyType != "rsa2048" {
		t.Fatalf("ca init manifest: %+v %v", m, err)
	}
	r := runCmd(t, nil, "issue", "mp-https", "--lab", dir, "--name", "dp01", "--cn", "dp01.contoso.com", "--san", "dp01.contoso.com", "--san", "dp01.corp.contoso.com", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("issue: %s", r.errOut)
	}
	var got struct {
		Schema      string    `json:"schema"`
		Certificate lab.Entry `json:"certificate"`
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.Schema != "cmgpki/issue/v1" || got.Certificate.Name != "dp01" {
		t.Fatalf("issue JSON: %v %s", err, r.out)
	}
	if strings.Join(got.Certificate.DNSNames, ",") != "dp01.contoso.com,dp01.corp.contoso.com" {
		t.Errorf("SANs %v", got.Certificate.DNSNames)
	}
	pkitest.OpenSSL(t)
	out := pkitest.MustRun(t, "verify", "-purpose", "sslserver", "-attime", pkitest.AtUnix(), "-CAfile", filepath.Join(dir, "ca", "root-ca.crt"),
		"-untrusted", filepath.Join(dir, "ca", "issuing-ca.crt"), filepath.Join(dir, "certs", "dp01.crt"))
	if !strings.Contains(out, "OK") {
		t.Errorf("openssl verify: %s", out)
	}
	r = runCmd(t, nil, "issue", "wpj-device", "--lab", dir, "--name", "device07")
	if r.code != ExitOK || !strings.Contains(r.out, "wpj-device") {
		t.Fatalf("issue wpj-device: %d %s", r.code, r.errOut)
	}
}

func TestProfilesCommands(t *testing.T) {
	r := runCmd(t, nil, "profiles", "list")
	for _, p := range []string{"root-ca", "issuing-ca", "cmg-server", "mp-https", "cmg-connection-point", "pki-client", "wpj-ca", "wpj-device", "ocsp-signer"} {
		if !strings.Contains(r.out, p) {
			t.Errorf("profiles list lacks %s", p)
		}
	}
	r = runCmd(t, nil, "profiles", "show", "cmg-server")
	for _, want := range []string{"serverAuth", "rsa2048, rsa4096", "[SAC]", "legacy"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("profiles show cmg-server lacks %q:\n%s", want, r.out)
		}
	}
	r = runCmd(t, nil, "profiles", "show", "wpj-device", "-o", "json")
	var v struct {
		Profile profileView `json:"profile"`
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || len(v.Profile.Extensions) != 5 || !v.Profile.EKUCrit {
		t.Errorf("wpj-device JSON: %v %+v", err, v.Profile)
	}
}

func TestHelpStatesExitCodesAndExamples(t *testing.T) {
	for _, args := range [][]string{{"lab", "create", "--help"}, {"issue", "--help"}, {"ca", "init", "--help"}} {
		r := runCmd(t, nil, args...)
		if r.code != ExitOK || !strings.Contains(r.out, "Exit codes:") || !strings.Contains(r.out, "Examples:") {
			t.Errorf("%v help lacks exit codes or examples:\n%s", args, r.out)
		}
	}
}
