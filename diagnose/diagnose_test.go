package diagnose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/flow"
)

func diag(t *testing.T, paths ...string) *Result {
	t.Helper()
	res, err := Diagnose(context.Background(), paths, Options{})
	if err != nil {
		t.Fatalf("Diagnose(%v): %v", paths, err)
	}
	return res
}

// TestEverySignatureHasAFixture diagnoses testdata/signatures/<ID> for
// every registered signature and checks that the signature is the named
// cause (the first finding) and that its evidence has file and line.
func TestEverySignatureHasAFixture(t *testing.T) {
	for _, s := range Signatures() {
		t.Run(s.ID, func(t *testing.T) {
			dir := filepath.Join("testdata", "signatures", s.ID)
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("signature %s has no fixture: %v", s.ID, err)
			}
			res := diag(t, dir)
			if len(res.Findings) == 0 {
				t.Fatalf("no finding; inputs %+v warnings %v", res.Inputs, res.Warnings)
			}
			got := res.Findings[0]
			if got.ID != s.ID {
				var ids []string
				for _, f := range res.Findings {
					ids = append(ids, f.ID)
				}
				t.Fatalf("named cause %s, want %s (all: %v)", got.ID, s.ID, ids)
			}
			if got.Cause == "" || got.Fix == "" || got.Citation == "" || len(got.Evidence) == 0 {
				t.Errorf("finding incomplete: %+v", got)
			}
			for _, e := range got.Evidence {
				if e.File == "" || e.Line < 1 || e.Time.IsZero() && !strings.HasSuffix(e.File, "SMSAdminUI.log") {
					t.Errorf("evidence without file, line or time: %+v", e)
				}
			}
			if s.Step != "" && got.Level == "fail" {
				if res.FailingStep != s.Step {
					t.Errorf("failing step %q, want %q", res.FailingStep, s.Step)
				}
				st := res.Step(s.Step)
				if st.Status != flow.Fail || st.Windows != s.Windows || (s.HTTP != "" && st.HTTP != s.HTTP) {
					t.Errorf("step %s = %+v; want fail with %v %q", s.Step, st, s.Windows, s.HTTP)
				}
			}
			if strings.Contains(got.Proof, "{") {
				t.Errorf("proof template not filled: %s", got.Proof)
			}
		})
	}
}

func TestSignatureIDsAreCatalogueIDs(t *testing.T) {
	for _, s := range Signatures() {
		if !(strings.HasPrefix(s.ID, "F") || strings.HasPrefix(s.ID, "S")) {
			t.Errorf("%s: IDs are F.. (cmg-failures.md) or S.. (seeds)", s.ID)
		}
		if strings.HasPrefix(s.ID, "F") && !strings.Contains(s.Citation, "cmg-failures.md "+s.ID[:3]) {
			t.Errorf("%s: citation %q does not name its catalogue entry", s.ID, s.Citation)
		}
	}
}

func TestF01NamesTheRootAndTheProof(t *testing.T) {
	res := diag(t, "testdata/signatures/F01")
	f := res.Findings[0]
	if f.Proof != "cmgpki verify endpoint https://cmg.contoso.com --roots CLIENT-ROOTS.pem" {
		t.Errorf("proof = %q", f.Proof)
	}
	var names []string
	for _, c := range f.Codes {
		names = append(names, c.Kind+":"+c.Name)
	}
	want := []string{"secure-failure-flags:INVALID_CA", "winhttp:ERROR_WINHTTP_SECURE_FAILURE"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("codes = %v, want %v", names, want)
	}
	if len(f.Evidence) != 3 || f.Evidence[0].File != filepath.Join("testdata/signatures/F01", "LocationServices.log") || f.Evidence[1].Line != 3 {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	if res.FailingStep != flow.StepCMGTLS || res.Code.HRESULT != 0x800B0109 {
		t.Errorf("failing step %s code %v", res.FailingStep, res.Code)
	}
}

// TestRevocationPlusInvalidCA: 0x9 is both flags; both causes are named.
func TestRevocationPlusInvalidCA(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		"[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered",
		"[CCMHTTP] AsyncCallback(): lpvStatusInformation is 0x9",
		"[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set",
		"[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set",
		"[CCMHTTP] ERROR: URL=https://cmg.contoso.com/CCM_Proxy_ServerAuth/72057594037927939/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(`<![LOG[` + l + `]LOG]!><time="10:00:00.000+480" date="06-24-2020" component="LocationServices" context="" type="1" thread="1" file="">` + "\r\n")
	}
	os.WriteFile(filepath.Join(dir, "LocationServices.log"), []byte(b.String()), 0o644)
	res := diag(t, dir)
	ids := map[string]bool{}
	for _, f := range res.Findings {
		ids[f.ID] = true
	}
	if !ids["F01"] || !ids["F02"] {
		t.Fatalf("findings %v, want F01 and F02", ids)
	}
	c := DecodeFlags(0x9)
	if c.Name != "CERT_REV_FAILED | INVALID_CA" {
		t.Errorf("DecodeFlags(0x9) = %+v", c)
	}
	if got := res.Findings[0].Time; !got.Equal(time.Date(2020, 6, 24, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v, want 18:00Z (10:00 local, bias +480)", got)
	}
}

// TestF23RecoveredIsAWarning: the documented device-token failure followed
// by a user token is a warning, not the cause.
func TestF23RecoveredIsAWarning(t *testing.T) {
	res := diag(t, "testdata/flows/documented")
	for _, f := range res.Findings {
		if f.ID == "F23" && f.Level != "warn" {
			t.Errorf("F23 level %s, want warn", f.Level)
		}
		if f.Level == "fail" {
			t.Errorf("documented happy flow has failure %s: %s", f.ID, f.Title)
		}
	}
}

// TestDocumentedFlowPasses rebuilds the flow of cmg-flow.md from its own
// lines, across eight logs in three formats and three encodings.
func TestDocumentedFlowPasses(t *testing.T) {
	res := diag(t, "testdata/flows/documented")
	if res.Result != flow.Pass || res.FailingStep != "" {
		t.Fatalf("result %s failing %s", res.Result, res.FailingStep)
	}
	want := map[string]flow.Status{
		flow.StepCMGTLS: flow.Pass, flow.StepAADInfo: flow.Pass, flow.StepAuth: flow.Pass, flow.StepCCMToken: flow.Pass,
		flow.StepLocation: flow.Pass, flow.StepRegister: flow.Pass, flow.StepRenewal: flow.Pass, flow.StepSecSettings: flow.Skip,
	}
	for _, s := range res.Steps {
		if s.Status != want[s.ID] {
			t.Errorf("step %s = %s (%s), want %s", s.ID, s.Status, s.Detail, want[s.ID])
		}
	}
	ccm := res.Step(flow.StepCCMToken)
	if !strings.Contains(ccm.Detail, "seen at client, cmg, connection-point, management-point") {
		t.Errorf("ccm-token detail %q: want the one step seen at four components", ccm.Detail)
	}
	for _, want := range []string{"the CCM_STS request was seen at client (https://cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500/CCM_STS)",
		"CMG (/CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS)", "connection point (MessageID b90c8940-b368-4f4a-b22f-a8eaae90acb2 to https://MP.MYCORP.COM/CCM_STS)",
		"MP (https://MP.MYCORP.COM/CCM_STS)"} {
		if !strings.Contains(ccm.Detail, want) {
			t.Errorf("ccm-token detail lacks %q:\n%s", want, ccm.Detail)
		}
	}
	if res.Names["cmg"] != "CMG.CLOUDAPP.NET" || res.Names["mp"] != "MP.MYCORP.COM" {
		t.Errorf("names %v", res.Names)
	}
	if !strings.Contains(res.Step(flow.StepSecSettings).Detail, "never started") {
		t.Errorf("security-settings: %s", res.Step(flow.StepSecSettings).Detail)
	}
}

func TestMissingVerboseProxyConnector(t *testing.T) {
	res := diag(t, "testdata/signatures/F17")
	if len(res.Missing) == 0 || !strings.Contains(res.Missing[0], "VerboseLogging=1") {
		t.Errorf("missing = %v", res.Missing)
	}
	res = diag(t, "testdata/signatures/F17v")
	for _, m := range res.Missing {
		if strings.Contains(m, "VerboseLogging") {
			t.Errorf("verbose log given, still asks for it: %v", m)
		}
	}
}

// TestRolledOverFirst: LocationServices.lo_ is read before
// LocationServices.log.
func TestRolledOverFirst(t *testing.T) {
	res := diag(t, "testdata/signatures/F03")
	var names []string
	for _, in := range res.Inputs {
		names = append(names, filepath.Base(in.File))
	}
	if got := strings.Join(names, " "); got != "ccmsetup.log LocationServices.lo_ LocationServices.log" {
		t.Errorf("order %q", got)
	}
}

func TestNotACertFault(t *testing.T) {
	res := diag(t, "testdata/signatures/F36")
	if !res.Findings[0].NotCert || res.Findings[0].Windows.HRESULT != 0 {
		t.Errorf("F36 must not be a certificate fault: %+v", res.Findings[0])
	}
}
