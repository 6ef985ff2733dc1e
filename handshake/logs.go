package handshake

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Client logs are written in CMTrace format; site logs in the site-server
// format of cmg-flow.md (windows-trust.md §6). Times are UTC, so the bias
// is +000.
var clientLogs = map[string]string{
	logCCMSetup:  "ccmsetup",
	logClientID:  "ClientIDManagerStartup",
	logLocation:  "LocationServices",
	logMessaging: "CcmMessaging",
	logADAL:      "ADALOperationProvider",
}

var siteLogs = map[string]string{
	logCMG:   "CMGService",
	logCP:    "SMS_CLOUD_PROXYCONNECTOR",
	logSTS:   "CCM_STS",
	logReg:   "MP_RegistrationManager",
	logEntra: "EntraTokenService",
}

// logType is CMTrace's type: 3 for an error line, 2 for a warning, 1 else.
func logType(text string) int {
	l := strings.ToLower(text)
	switch {
	case strings.Contains(l, "failed") || strings.Contains(l, "refused") || strings.Contains(l, "error"):
		return 3
	case strings.Contains(l, "falling back") || strings.Contains(l, "disabled ssl revocation"):
		return 2
	}
	return 1
}

// CMTraceLine renders one client log line.
func CMTraceLine(component string, t time.Time, thread int, text string) string {
	t = t.UTC()
	return fmt.Sprintf(`<![LOG[%s]LOG]!><time="%s+000" date="%s" component="%s" context="" type="%d" thread="%d" file="">`,
		text, t.Format("15:04:05.000"), t.Format("01-02-2006"), component, logType(text), thread)
}

// SiteLine renders one site-server log line; line breaks become "~~".
func SiteLine(component string, t time.Time, thread int, text string) string {
	t = t.UTC()
	return fmt.Sprintf("%s  $$<%s><%s+000><thread=%d (0x%X)>", strings.ReplaceAll(text, "\n", "~~"), component, t.Format("01-02-2006 15:04:05.000"), thread, thread)
}

// WriteLogs writes lines into dir, one file per log, in the real formats.
// It returns the files written, sorted.
func WriteLogs(dir string, lines []LogLine) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("handshake: logs: %w", err)
	}
	bufs := map[string]*bytes.Buffer{}
	for _, l := range lines {
		b := bufs[l.File]
		if b == nil {
			b = &bytes.Buffer{}
			bufs[l.File] = b
		}
		if c, ok := clientLogs[l.File]; ok {
			b.WriteString(CMTraceLine(c, l.Time, 4992, l.Text) + "\r\n")
		} else if c, ok := siteLogs[l.File]; ok {
			b.WriteString(SiteLine(c, l.Time, 4992, l.Text) + "\r\n")
		} else {
			return nil, fmt.Errorf("handshake: logs: unknown log %q", l.File)
		}
	}
	var files []string
	for name, b := range bufs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("handshake: logs: %w", err)
		}
		files = append(files, p)
	}
	sort.Strings(files)
	return files, nil
}
