package cmd

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// chromiumArgs are the flags of a quiet, isolated headless run.
func chromiumArgs(profile string, extra ...string) []string {
	return append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--enable-logging=stderr", "--v=0"}, extra...)
}

// TestDiagnoseReportInBrowser opens the HTML report in headless Chromium
// (Debian's chromium package; .ci/run installs it): the rendered DOM holds
// every step with the failing one marked, the page logs no console error,
// and its screenshot is not blank. Skipped when chromium is missing, unless
// CI=true.
func TestDiagnoseReportInBrowser(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	r := runCmd(t, nil, "diagnose", diagFixtures+"/signatures/F03", "--report", report)
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	url := "file://" + report
	run := func(extra ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, chromiumArgs(t.TempDir(), append(extra, url)...)...)
		cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errOut, dir
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, errOut.String())
		}
		return out.String(), errOut.String()
	}

	dom, logs := run("--dump-dom")
	for _, step := range []string{"cmg-tls", "aad-info", "auth-choice", "ccm-token", "location", "registration", "token-renewal", "security-settings"} {
		if !strings.Contains(dom, `data-step="`+step+`"`) {
			t.Errorf("rendered DOM lacks step %s", step)
		}
	}
	if !strings.Contains(dom, `class="step fail" data-step="security-settings" data-status="fail"`) || !strings.Contains(dom, "✗ FAILED") ||
		!strings.Contains(dom, `<tr class="fail" data-step="security-settings">`) {
		t.Errorf("the failing step is not marked in the rendered DOM")
	}
	if strings.Count(dom, `data-status="fail"`) != 1 {
		t.Errorf("%d steps marked failed, want 1", strings.Count(dom, `data-status="fail"`))
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "CONSOLE") {
			t.Errorf("console message: %s", l)
		}
	}

	shot := filepath.Join(dir, "shot.png")
	run("--screenshot="+shot, "--window-size=1200,1400")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	colours := map[uint32]bool{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>12)<<8|(g>>12)<<4|bl>>12] = true
			if r < 0xF000 || g < 0xF000 || bl < 0xF000 {
				nonWhite++
			}
		}
	}
	total := (b.Dx() / 4) * (b.Dy() / 4)
	if len(colours) < 5 || nonWhite*100 < total {
		t.Errorf("screenshot looks blank: %d colours, %d of %d samples not white", len(colours), nonWhite, total)
	}
	// the failing step's red must be on screen
	red := false
	for y := b.Min.Y; y < b.Max.Y && !red; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 0x90 && g>>8 < 0x50 && bl>>8 < 0x50 {
				red = true
				break
			}
		}
	}
	if !red {
		t.Error("no red (failing step) in the screenshot")
	}
}

// hopSubjects are the subjects of the server chain of the first hop table
// of step in an HTML report (as written or as Chromium serialises it), with
// whether each row is marked failing and its status text.
func hopSubjects(html, step string) (subjects, statuses []string, bad []bool) {
	_, rest, ok := strings.Cut(html, `data-chain-step="`+step+`"`)
	if !ok {
		return nil, nil, nil
	}
	tbl, _, _ := strings.Cut(rest, "</table>")
	re := regexp.MustCompile(`<tr( class="bad")?><td>CMG \(server\)</td><td>\d+</td><td>([^<]*)</td>.*?<td class="status">([^<]*)</td>`)
	for _, m := range re.FindAllStringSubmatch(tbl, -1) {
		cn, _, _ := strings.Cut(strings.TrimPrefix(m[2], "CN="), ",")
		subjects, statuses, bad = append(subjects, cn), append(statuses, m[3]), append(bad, m[1] != "")
	}
	return subjects, statuses, bad
}

// TestHandshakeReportInBrowser opens handshake reports in headless
// Chromium: the cmg-tls step shows the chain the client built, and in
// cmg-cert-revoked the leaf's row is marked failing with its revoked status.
func TestHandshakeReportInBrowser(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", lab); r.code != ExitOK {
		t.Fatalf("lab create: exit %d: %s", r.code, r.errOut)
	}
	dom := func(scenario string) string {
		report := filepath.Join(dir, scenario+".html")
		if r := runCmd(t, nil, "handshake", "--lab", lab, "--scenario", scenario, "--report", report); r.code != ExitOK {
			t.Fatalf("handshake %s: exit %d: %s", scenario, r.code, r.errOut)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, chromiumArgs(t.TempDir(), "--dump-dom", "file://"+report)...)
		cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errOut, dir
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, errOut.String())
		}
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.Contains(l, "CONSOLE") {
				t.Errorf("console message: %s", l)
			}
		}
		return out.String()
	}
	want := "cmg.contoso.com > contoso.com Lab Issuing CA > contoso.com Lab Root CA"
	subj, st, bad := hopSubjects(dom("happy-device-token"), "cmg-tls")
	if strings.Join(subj, " > ") != want || strings.Join(st, ",") != "OK,OK,OK" || slices.Contains(bad, true) {
		t.Errorf("happy cmg-tls chain = %q %q %v, want %q all OK", subj, st, bad, want)
	}
	subj, st, bad = hopSubjects(dom("cmg-cert-revoked"), "cmg-tls")
	if strings.Join(subj, " > ") != want || len(st) != 3 || !strings.Contains(st[0], "IS_REVOKED") || !bad[0] || bad[1] || bad[2] {
		t.Errorf("revoked cmg-tls chain = %q %q %v, want the leaf marked revoked", subj, st, bad)
	}
}
