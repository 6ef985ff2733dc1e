package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
)

// runTTY runs cmgpki as if stdout were a terminal width columns wide (0:
// width unknown).
func runTTY(t *testing.T, width int, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{
		IO:     IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutIsTTY: true, TermWidth: width},
		Clock:  clock.Fixed(pkitest.At),
		Rand:   rand.Reader,
		Getenv: func(string) string { return "" },
	}
	code := run(context.Background(), f, args)
	if code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
	}
	return result{code, out.String(), errOut.String()}
}

// widest is the display width of the widest line of s.
func widest(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, twwidth.Width(l))
	}
	return w
}

func headerOf(t *testing.T, table string) []string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "| ") {
			var hs []string
			for _, h := range strings.Split(strings.Trim(l, "|"), "|") {
				hs = append(hs, strings.TrimSpace(h))
			}
			return hs
		}
	}
	t.Fatalf("no table in:\n%s", table)
	return nil
}

func TestTablesFitTerminalWidth(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "lab")
	runCmd(t, nil, "lab", "create", "--out", lab)
	var lab80 string
	for _, width := range []int{80, 120} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			cases := []struct {
				name string
				args []string
				must []string // headers that must survive
			}{
				{"lab create", []string{"lab", "create", "--out", filepath.Join(t.TempDir(), "lab")}, []string{"ROLE", "NAME", "SUBJECT", "EXPIRES"}},
				{"ca init", []string{"ca", "init", "--out", filepath.Join(t.TempDir(), "ca")}, []string{"ROLE", "NAME", "EXPIRES"}},
				{"issue", []string{"issue", "mp-https", "--lab", lab, "--name", fmt.Sprint("mp", width), "--cn", "mp2.contoso.com", "--san", "mp2.contoso.com", "--san", "mp02.corp.contoso.com"}, []string{"ROLE", "NAME", "EXPIRES"}},
				{"profiles list", []string{"profiles", "list"}, []string{"PROFILE", "SUMMARY"}},
				{"profiles show", []string{"profiles", "show", "wpj-device"}, []string{"REQUIREMENT", "VALUE", "SOURCE"}},
				{"revoke", []string{"revoke", "--lab", lab, "--cert", filepath.Join(lab, "certs", "client01.crt"), "--reason", "keyCompromise"}, []string{"SERIAL", "STATUS", "REASON"}},
				{"crl", []string{"crl", "--lab", lab}, []string{"CA", "NUMBER", "NEXT UPDATE"}},
			}
			for _, tc := range cases {
				r := runTTY(t, width, tc.args...)
				if width == 80 && tc.name == "lab create" {
					lab80 = r.out
				}
				if w := widest(r.out); w > width {
					t.Errorf("%s: a line is %d columns wide on a %d column terminal:\n%s", tc.name, w, width, r.out)
				}
				hs := strings.Join(headerOf(t, r.out), ",")
				for _, h := range tc.must {
					if !strings.Contains(","+hs+",", ","+h+",") {
						t.Errorf("%s: column %s dropped at %d columns (have %s)", tc.name, h, width, hs)
					}
				}
				if strings.Contains(r.out, "…") {
					t.Errorf("%s: non-ASCII ellipsis:\n%s", tc.name, r.out)
				}
			}
		})
	}

	// The rows of lab create keep what identifies them: every role, every
	// name, every expiry date.
	for _, want := range []string{"root-ca", "issuing-ca", "wpj-ca", "cmg-server", "mp-https", "cmg-connection-point", "pki-client", "client01", "wpj-device", "device01", "CN=mp.contoso.com"} {
		if !strings.Contains(lab80, "| "+want+" ") {
			t.Errorf("80 columns: lab create lost %q:\n%s", want, lab80)
		}
	}
	// Leaves expire a year after their notBefore (the pinned time less ten
	// minutes), so the month is that of the real notAfter, not At + 1 year.
	if !strings.Contains(lab80, pkitest.At.Add(-10*time.Minute).AddDate(1, 0, 0).Format("2006-01")) {
		t.Errorf("80 columns: lab create lost the expiry dates:\n%s", lab80)
	}
}

// Piped output, a terminal of unknown width and --wide all give the table
// in full, byte for byte.
func TestTablesInFull(t *testing.T) {
	for _, args := range [][]string{{"profiles", "list"}, {"profiles", "show", "cmg-server"}} {
		piped := runCmd(t, nil, args...)
		if w := widest(piped.out); w <= 120 {
			t.Fatalf("%v: the table is only %d wide; the test needs a wide one", args, w)
		}
		golden, err := os.ReadFile(filepath.Join("testdata", strings.ReplaceAll(strings.Join(args, "_"), "-", "_")+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if trimLines(piped.out) != string(golden) {
			t.Errorf("%v: piped output differs from the golden file", args)
		}
		// A runner that sets TermWidth but not OutIsTTY is still piped.
		var out bytes.Buffer
		f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}, TermWidth: 80},
			Clock: clock.Fixed(pkitest.At), Rand: rand.Reader, Getenv: func(string) string { return "" }}
		if run(context.Background(), f, args) != ExitOK || out.String() != piped.out {
			t.Errorf("%v: output that is not a terminal was fitted", args)
		}
		if got := runTTY(t, 0, args...).out; got != piped.out {
			t.Errorf("%v: a terminal of unknown width changed the table:\n%s", args, got)
		}
		if got := runTTY(t, 80, append(args, "--wide")...).out; got != piped.out {
			t.Errorf("%v --wide on 80 columns is not the full table:\n%s", args, got)
		}
	}
	lab := filepath.Join(t.TempDir(), "lab")
	r := runTTY(t, 80, "lab", "create", "--out", lab, "--wide")
	if got := strings.Join(headerOf(t, r.out), ","); got != "ROLE,NAME,SUBJECT,SANS,KEY,EXPIRES,SHA-1 THUMBPRINT,FILE" {
		t.Errorf("lab create --wide: columns %s", got)
	}
	if strings.Contains(r.out, "...") || !strings.Contains(r.out, "mp.contoso.com, mp01.corp.contoso.com") {
		t.Errorf("lab create --wide shortened a cell:\n%s", r.out)
	}
	for _, args := range [][]string{{"lab", "create"}, {"ca", "init"}, {"issue"}, {"profiles", "list"}, {"profiles", "show"}, {"revoke"}, {"unrevoke"}, {"crl"}} {
		if h := runCmd(t, nil, append(args, "--help")...); !strings.Contains(h.out, "--wide") {
			t.Errorf("%v has no --wide", args)
		}
	}
	if h := runCmd(t, nil, "serve", "--help"); strings.Contains(h.out, "--wide") {
		t.Error("serve prints no table but has --wide")
	}
}

func TestFitColumns(t *testing.T) {
	cols := []column{
		{Header: "ID", Priority: 1},
		{Header: "NAME", Priority: 2, Min: 8, Shrink: cutEnd},
		{Header: "PATH", Priority: 3, Min: 10, Shrink: cutStart},
		{Header: "NOTE", Priority: 4},
	}
	rows := [][]string{{"1", "Zoë Müller-Lüdenscheidt 東京", "/very/long/path/to/the/file.pfx", "note text"}}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{0, "ID,NAME,PATH,NOTE"},
		{200, "ID,NAME,PATH,NOTE"},
		{60, "ID,NAME,PATH,NOTE"}, // PATH and NAME are cut
		{40, "ID,NAME,PATH"},      // at their minimum the four need 42
		{25, "ID,NAME"},
		{10, "ID"}, // priority 1 stays even when nothing fits
	} {
		keep, widths := fitColumns(cols, rows, tc.width)
		var names []string
		for _, i := range keep {
			names = append(names, cols[i].Header)
		}
		if got := strings.Join(names, ","); got != tc.want {
			t.Errorf("width %d: columns %s, want %s", tc.width, got, tc.want)
		}
		if tc.width >= 17 && tableWidth(widths) > tc.width {
			t.Errorf("width %d: table is %d wide", tc.width, tableWidth(widths))
		}
		header, cells := fitTable(cols, rows, tc.width)
		for j := range header {
			if w := cellWidth(cells[0][j]); w > widths[j] {
				t.Errorf("width %d: cell %q is %d wide in a column of %d", tc.width, cells[0][j], w, widths[j])
			}
		}
	}
	_, cells := fitTable(cols, rows, 40)
	if name, path := cells[0][1], cells[0][2]; !strings.HasSuffix(name, "...") || !strings.HasPrefix(name, "Zo") || !strings.HasPrefix(path, "...") || !strings.HasSuffix(path, ".pfx") {
		t.Errorf("at 40 columns: name %q, path %q", name, path)
	}
}

func TestCutAndWrap(t *testing.T) {
	for _, tc := range []struct{ in, end, start string }{
		{"abcdefghijk", "abcdefg...", "...efghijk"},
		{"short", "short", "short"},
		{"東京東京東京東京", "東京東...", "...京東京"}, // two columns each: 3*2+3 = 9 <= 10
	} {
		if got := cutRight(tc.in, 10); got != tc.end || twwidth.Width(got) > 10 {
			t.Errorf("cutRight(%q, 10) = %q, want %q", tc.in, got, tc.end)
		}
		if got := cutLeft(tc.in, 10); got != tc.start || twwidth.Width(got) > 10 {
			t.Errorf("cutLeft(%q, 10) = %q, want %q", tc.in, got, tc.start)
		}
	}
	got := wrap("a CRL signed by the CA 1.2.840.113556.1.5.284.1 itself", 12)
	want := []string{"a CRL signed", "by the CA", "1.2.840.1135", "56.1.5.284.1", "itself"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestTerminalDetection(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if tty, w := terminal(f, func(string) string { return "60" }); tty || w != 0 {
		t.Errorf("a file is a terminal (%v) %d wide; COLUMNS must not fit piped output", tty, w)
	}
}

// TestTableInRealTerminal runs cmgpki in an 80 column tmux pane and reads
// the screen back: no line may be wider than the pane (capture-pane -J
// joins a line the terminal wrapped, so an overflow shows), and COLUMNS
// narrows it further.
func TestTableInRealTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (apt-get install tmux)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sock string
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	screen := func(t *testing.T, env string, args ...string) string {
		t.Helper()
		// A server per run: a new one on the socket of one being killed
		// fails with "server exited unexpectedly".
		f, err := os.CreateTemp(dir, "tmux*.sock")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		os.Remove(f.Name())
		sock = f.Name()
		js, _ := json.Marshal(args)
		script := filepath.Join(dir, "run.sh")
		body := fmt.Sprintf("#!/bin/sh\nunset COLUMNS LINES\n%s CMGPKI_TEST_MAIN_ARGS='%s' exec '%s' 2>/dev/null\n", env, js, exe)
		if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := tmux("new-session", "-d", "-x", "80", "-y", "100", "sh -c '"+script+"; echo __END__; sleep 60'"); err != nil {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		defer tmux("kill-server")
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			out, err := tmux("capture-pane", "-p", "-J")
			if err != nil {
				t.Fatalf("tmux capture-pane: %v: %s", err, out)
			}
			if strings.Contains(out, "__END__") {
				return trimLines(out)
			}
		}
		t.Fatal("cmgpki did not finish in the tmux pane")
		return ""
	}
	lab := filepath.Join(dir, "lab")
	for _, tc := range []struct {
		env   string
		args  []string
		width int
	}{
		{"", []string{"lab", "create", "--out", lab}, 80},
		{"", []string{"profiles", "show", "wpj-device"}, 80},
		{"", []string{"profiles", "list"}, 80},
		{"COLUMNS=60", []string{"profiles", "list"}, 60},
	} {
		out := screen(t, tc.env, tc.args...)
		if !strings.Contains(out, "+--") {
			t.Fatalf("%v: no table on the screen:\n%s", tc.args, out)
		}
		if w := widest(out); w > tc.width {
			t.Errorf("%s %v: a line is %d columns wide, more than %d:\n%s", tc.env, tc.args, w, tc.width, out)
		}
	}
	// The capture does show an overflow: --wide is wider than the pane.
	if out := screen(t, "", "profiles", "list", "--wide"); widest(out) <= 80 {
		t.Errorf("--wide fits in 80 columns, so the capture cannot see an overflow:\n%s", out)
	}
}
