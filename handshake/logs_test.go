package handshake

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	// cmtraceRE is one CMTrace line (windows-trust.md §6).
	cmtraceRE = regexp.MustCompile(`^<!\[LOG\[(.*)\]LOG\]!><time="(\d\d:\d\d:\d\d\.\d{3})([+-]\d+)" date="(\d\d-\d\d-\d{4})" component="([^"]+)" context="" type="([123])" thread="(\d+)" file="">$`)
	// siteRE is one site-server line: message  $$<Component><MM-dd-yyyy HH:mm:ss.fff+BIAS><thread=N (0xHEX)>.
	siteRE  = regexp.MustCompile(`^(.*)  \$\$<([^>]+)><(\d\d-\d\d-\d{4} \d\d:\d\d:\d\d\.\d{3})([+-]\d+)><thread=(\d+) \(0x([0-9A-F]+)\)>$`)
	maskers = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "<GUID>"},
		{regexp.MustCompile(`\d\d/\d\d/\d{4} \d\d:\d\d:\d\d`), "<TIME>"},
		{regexp.MustCompile(`\b[0-9A-F]{40}\b`), "<THUMBPRINT>"},
		// Compressed CCM message bodies vary in size with their random parts.
		{regexp.MustCompile(`RequestSize: \d+ Bytes`), "RequestSize: <N> Bytes"},
	}
)

// TestHandshakeLogsGolden writes the happy path's logs, parses every line
// as CMTrace (client logs) or the site-server format (site logs), checks
// that the parsed times are the simulated ones, and compares the messages
// (GUIDs and times masked) with testdata/happy-logs.golden.
func TestHandshakeLogsGolden(t *testing.T) {
	f := run(t, Happy, Options{})
	dir := t.TempDir()
	files, err := WriteLogs(dir, f.Log)
	if err != nil {
		t.Fatal(err)
	}
	var shape strings.Builder
	for _, p := range files {
		name := filepath.Base(p)
		_, client := clientLogs[name]
		shape.WriteString("== " + name + "\n")
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			var msg string
			var at time.Time
			if client {
				m := cmtraceRE.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("%s: not a CMTrace line: %q", name, line)
				}
				msg = m[1]
				at, err = time.Parse("01-02-2006 15:04:05.000", m[4]+" "+m[2])
			} else {
				m := siteRE.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("%s: not a site-server line: %q", name, line)
				}
				msg = m[1]
				at, err = time.Parse("01-02-2006 15:04:05.000", m[3])
			}
			if err != nil || at.Before(simStart) || at.After(simStart.Add(9*time.Hour)) {
				t.Errorf("%s: time %v (%v) outside the simulated run", name, at, err)
			}
			for _, mk := range maskers {
				msg = mk.re.ReplaceAllString(msg, mk.with)
			}
			shape.WriteString(msg + "\n")
		}
		fh.Close()
	}
	golden := filepath.Join("testdata", "happy-logs.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(shape.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if shape.String() != string(want) {
		t.Errorf("log shape differs from %s (go test ./handshake -run LogsGolden -update):\n%s", golden, shape.String())
	}
}
