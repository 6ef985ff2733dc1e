package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/handshake"
)

func TestHandshakeCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir); r.code != ExitOK {
		t.Fatalf("lab create: exit %d: %s", r.code, r.errOut)
	}

	t.Run("happy path table", func(t *testing.T) {
		r := runCmd(t, nil, "handshake", "--lab", dir)
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.errOut)
		}
		for _, want := range []string{"STEP", "WINDOWS ERROR", "FIX", "cmg-tls", "aad-info", "auth-choice", "ccm-token", "location", "registration", "token-renewal", "security-settings", "approval status 3"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("table lacks %q:\n%s", want, r.out)
			}
		}
		if strings.Contains(r.out, "| fail ") || !strings.Contains(r.errOut, "handshake happy-device-token: pass (expected pass)") {
			t.Errorf("out:\n%s\nerr:\n%s", r.out, r.errOut)
		}
	})

	t.Run("report", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "crl.html")
		r := runCmd(t, nil, "handshake", "--lab", dir, "--scenario", "crl-unreachable", "--report", out)
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.errOut)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		html := string(b)
		for _, want := range []string{"<svg", "FAILED at step cmg-tls", "CRYPT_E_REVOCATION_OFFLINE", "security-settings"} {
			if !strings.Contains(html, want) {
				t.Errorf("report lacks %q", want)
			}
		}
		// the client's chain of the CMG certificate, the root's revocation
		// not checked and the leaf's unknown (CRL offline)
		subj, st, _ := hopSubjects(html, "cmg-tls")
		if strings.Join(subj, " > ") != "cmg.contoso.com > contoso.com Lab Issuing CA > contoso.com Lab Root CA" || len(st) != 3 || !strings.Contains(st[0], "OFFLINE_REVOCATION") {
			t.Errorf("cmg-tls chain = %q %q", subj, st)
		}
		if strings.Contains(html, "no certificates in the logs") {
			t.Error("a simulated run says its certificates came from logs")
		}
		if strings.Contains(html, "<script") || strings.Contains(html, "http://") && strings.Contains(html, "src=\"http") {
			t.Error("the report is not self-contained")
		}
	})

	t.Run("matrix json", func(t *testing.T) {
		r := runCmd(t, nil, "handshake", "--lab", dir, "--scenario", "all", "--output", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.errOut)
		}
		var mx struct {
			Schema    string `json:"schema"`
			Scenarios []struct {
				Name        string `json:"name"`
				Expected    string `json:"expected"`
				Got         string `json:"got"`
				FailingStep string `json:"failing_step"`
				Code        string `json:"code"`
				Windows     *struct {
					Name    string `json:"name"`
					HRESULT string `json:"hresult"`
				} `json:"windows_error"`
				Steps []struct {
					Step   string `json:"step"`
					Result string `json:"result"`
				} `json:"steps"`
			} `json:"scenarios"`
		}
		if err := json.Unmarshal([]byte(r.out), &mx); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.out)
		}
		if mx.Schema != "cmgpki/handshake/v1" || len(mx.Scenarios) != len(handshake.Names()) {
			t.Fatalf("schema %q, %d scenarios", mx.Schema, len(mx.Scenarios))
		}
		for _, s := range mx.Scenarios {
			if s.Expected != s.Got || len(s.Steps) != 8 {
				t.Errorf("%s: expected %s got %s, %d steps", s.Name, s.Expected, s.Got, len(s.Steps))
			}
			if s.Name == "root-missing-on-client" && (s.Windows == nil || s.Windows.HRESULT != "0x800B0109" || s.Code != "CERT_E_UNTRUSTEDROOT 0x800B0109" || s.FailingStep != "cmg-tls") {
				t.Errorf("root-missing-on-client: %+v %q at %s", s.Windows, s.Code, s.FailingStep)
			}
			if s.Name == "cp-cert-untrusted-by-mp" && (s.Windows != nil || s.Code != "HTTP 403 CMGConnector_Clientcertificaterequired") {
				t.Errorf("cp-cert-untrusted-by-mp: %+v %q", s.Windows, s.Code)
			}
		}
		if !strings.Contains(r.errOut, "as expected, 0 not") {
			t.Errorf("stderr: %s", r.errOut)
		}
	})

	t.Run("failing scenario with --no-crl-check exits 1 only when not as expected", func(t *testing.T) {
		r := runCmd(t, nil, "handshake", "--lab", dir, "--scenario", "crl-unreachable", "--no-crl-check")
		// With /NoCRLCheck the bootstrap passes and the security settings
		// refresh fails: a different step than the scenario expects.
		if r.code != ExitFindings || !strings.Contains(r.errOut, "failing step security-settings: CRYPT_E_REVOCATION_OFFLINE 0x80092013") ||
			!strings.Contains(r.errOut, "Note: /NoCRLCheck carries only the ccmsetup bootstrap") {
			t.Errorf("exit %d\n%s", r.code, r.errOut)
		}
		r = runCmd(t, nil, "handshake", "--lab", dir, "--scenario", "crl-unreachable")
		if r.code != ExitOK || !strings.Contains(r.out, "CRYPT_E_REVOCATION_OFFLINE 0x80092013") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.errOut)
		}
	})

	t.Run("logs", func(t *testing.T) {
		logs := filepath.Join(t.TempDir(), "logs")
		r := runCmd(t, nil, "handshake", "--lab", dir, "--scenario", "all", "--logs", logs, "--output", "json")
		if r.code != ExitOK || !strings.Contains(r.errOut, "Note: wrote ") {
			t.Fatalf("exit %d: %s", r.code, r.errOut)
		}
		b, err := os.ReadFile(filepath.Join(logs, "crl-unreachable", "ccmsetup.log"))
		if err != nil || !strings.Contains(string(b), `<![LOG[Enabled SSL revocation check.]LOG]!><time="`) || !strings.Contains(string(b), `CRYPT_E_REVOCATION_OFFLINE]LOG]!>`) {
			t.Errorf("crl-unreachable ccmsetup.log: %v\n%s", err, b)
		}
		if _, err := os.Stat(filepath.Join(logs, "cp-cert-untrusted-by-mp", "SMS_CLOUD_PROXYCONNECTOR.log")); err != nil {
			t.Error(err)
		}
	})

	t.Run("own certificates", func(t *testing.T) {
		env := map[string]string{}
		pw, _ := os.ReadFile(filepath.Join(dir, "pfx-password.txt"))
		env["CMGPKI_PFX_PASSWORD"] = strings.TrimSpace(string(pw))
		r := runCmd(t, env, "handshake", "--lab", dir, "--cmg-cert", filepath.Join(dir, "certs", "cmg-server.pfx"), "--client-cert", filepath.Join(dir, "certs", "client01.pfx"), "--roots", filepath.Join(dir, "ca"))
		if r.code != ExitOK || !strings.Contains(r.errOut, "Note: cmg-server certificate: yours (CN=cmg.contoso.com)") ||
			!strings.Contains(r.errOut, "Note: mp-https certificate: lab") || !strings.Contains(r.errOut, "handshake pki-client-preferred: pass") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.errOut)
		}
		r = runCmd(t, env, "handshake", "--lab", dir, "--cmg-cert", filepath.Join(dir, "certs", "cmg-server.pfx"), "--scenario", "all")
		if r.code != ExitUsage || !strings.Contains(r.errOut, "with your own certificates run one of") {
			t.Errorf("own + all: exit %d %s", r.code, r.errOut)
		}
		r = runCmd(t, nil, "handshake", "--lab", dir, "--cmg-cert", filepath.Join(dir, "certs", "cmg-server.crt"))
		if r.code != ExitUsage || !strings.Contains(r.errOut, "--cmg-cert") {
			t.Errorf("certificate without key: exit %d %s", r.code, r.errOut)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"handshake"},
			{"handshake", "--lab", dir, "--scenario", "nope"},
			{"handshake", "--lab", dir, "--scenario", "all", "--no-crl-check"},
			{"handshake", "--lab", filepath.Join(dir, "missing")},
			{"handshake", "--lab", dir, "--at", "yesterday"},
			{"handshake", "--lab", dir, "--output", "yaml"},
		} {
			r := runCmd(t, nil, args...)
			if r.code != ExitUsage || r.out != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %s", args, r.code, r.out, r.errOut)
			}
		}
	})
}
