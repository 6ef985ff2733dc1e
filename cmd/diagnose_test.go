package cmd

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const diagFixtures = "../diagnose/testdata"

func TestDiagnoseNamesTheCause(t *testing.T) {
	r := runCmd(t, nil, "diagnose", diagFixtures+"/signatures/F02")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want 1 (a failure identified): %s", r.code, r.errOut)
	}
	for _, want := range []string{"Flow: FAILED at cmg-tls", "Cause F02:", "ccmsetup.log:7: [CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set",
		"0x1 CERT_REV_FAILED", "CRYPT_E_REVOCATION_OFFLINE 0x80092013", "proof:    cmgpki verify endpoint https://cmg.contoso.com --crl-check"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "Error:") || !strings.Contains(r.errOut, "Error: diagnose:") {
		t.Errorf("streams mixed: stdout %q stderr %q", r.out, r.errOut)
	}
}

func TestDiagnoseDocumentedFlowJSON(t *testing.T) {
	r := runCmd(t, nil, "diagnose", diagFixtures+"/flows/documented", "--output", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var v struct {
		Schema   string `json:"schema"`
		Result   string `json:"result"`
		Steps    []struct{ Step, Result string }
		Findings []struct{ ID, Level string }
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("json: %v\n%s", err, r.out)
	}
	if v.Schema != "cmgpki/diagnose/v1" || v.Result != "pass" || len(v.Steps) != 8 || v.Steps[3].Step != "ccm-token" || v.Steps[3].Result != "pass" {
		t.Errorf("got %+v", v)
	}
	if len(v.Findings) != 1 || v.Findings[0].ID != "F23" || v.Findings[0].Level != "warn" {
		t.Errorf("findings %+v, want the documented device-token fallback as a warning", v.Findings)
	}
}

func TestDiagnoseUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"diagnose"}, "want at least one PATH"},
		{[]string{"diagnose", "no/such/dir"}, "PATH no/such/dir"},
		{[]string{"diagnose", diagFixtures + "/signatures/F01", "--tz", "Mars/Olympus"}, "--tz"},
		{[]string{"diagnose", diagFixtures + "/signatures/F01", "--output", "yaml"}, "--output"},
		{[]string{"diagnose", diagFixtures + "/signatures/F01", "--report", "x.pdf"}, "--report"},
	} {
		r := runCmd(t, nil, c.args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", c.args, r.code, r.errOut, c.want)
		}
	}
}

// TestDiagnoseZipAndBadFile: a zip of logs is read; a binary file among
// them gets a warning and the rest is still read.
func TestDiagnoseZipAndBadFile(t *testing.T) {
	dir := t.TempDir()
	zp := filepath.Join(dir, "client-logs.zip")
	zf, _ := os.Create(zp)
	zw := zip.NewWriter(zf)
	for _, name := range []string{"ccmsetup.log", "LocationServices.log"} {
		data, err := os.ReadFile(filepath.Join(diagFixtures, "signatures/F01", name))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create("Logs/" + name)
		w.Write(data)
	}
	w, _ := zw.Create("Logs/garbage.log")
	w.Write([]byte{0x7f, 'E', 'L', 'F', 0, 0, 0, 1, 2, 3})
	zw.Close()
	zf.Close()
	r := runCmd(t, nil, "diagnose", zp)
	if r.code != ExitFindings || !strings.Contains(r.out, "Cause F01:") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.out, r.errOut)
	}
	if !strings.Contains(r.errOut, "Warning: diagnose: "+zp+"!Logs/garbage.log: ") || !strings.Contains(r.errOut, "unknown encoding or binary data") {
		t.Errorf("stderr lacks the warning for the binary entry:\n%s", r.errOut)
	}
	if !strings.Contains(r.out, "LocationServices.log:3:") {
		t.Errorf("evidence lacks the zip entry's line:\n%s", r.out)
	}
}

func TestDiagnoseReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	r := runCmd(t, nil, "diagnose", diagFixtures+"/signatures/F17", "--report", out)
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{`data-step="location" data-status="fail"`, `✗ FAILED`, `data-step="ccm-token" data-status="skip"`, "<svg", "StatusText= CMGConnector_Clientcertificaterequired", "VerboseLogging=1",
		`data-chain-step="location"`, "no certificates in the logs; run the proof command"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "<link", "src="} {
		if strings.Contains(html, bad) && !strings.Contains(html, `xmlns="http://www.w3.org/2000/svg"`) {
			t.Errorf("report is not self-contained: %q", bad)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "<link") || strings.Contains(html, " src=") {
		t.Error("report holds a script, a link or an external source")
	}
	// logs carry no certificates: nothing is invented
	if strings.Contains(html, `<table class="hop`) || strings.Contains(html, `data-chain-step="ccm-token"`) {
		t.Error("a report read from logs shows a certificate chain, or one for a step that never ran")
	}
}
