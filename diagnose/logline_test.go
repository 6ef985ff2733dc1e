package diagnose

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func readAll(t *testing.T, data []byte, opt ReadOptions) ([]Line, error) {
	t.Helper()
	var out []Line
	err := ReadLog(bytes.NewReader(data), "test.log", opt, func(l Line) error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// TestCMTraceBiasSign: the number after the time is the Windows UTC bias
// in minutes, UTC = local + bias (windows-trust.md §6). The widely copied
// Get-CMLog reads it as an ISO offset and gets 02:00Z; 18:00Z is right.
func TestCMTraceBiasSign(t *testing.T) {
	for _, c := range []struct {
		tm   string
		want time.Time
	}{
		{"10:00:00.000+480", time.Date(2020, 6, 24, 18, 0, 0, 0, time.UTC)},
		{"10:00:00.000-120", time.Date(2020, 6, 24, 8, 0, 0, 0, time.UTC)},
		{"10:00:00.000+000", time.Date(2020, 6, 24, 10, 0, 0, 0, time.UTC)},
		{"23:30:00.250+060", time.Date(2020, 6, 25, 0, 30, 0, 250e6, time.UTC)},
	} {
		l, ok := ParseCMTrace(`<![LOG[x]LOG]!><time="` + c.tm + `" date="06-24-2020" component="ccmsetup" context="" type="1" thread="4992" file="ccmsetup.cpp:123">`)
		if !ok || !l.Time.Equal(c.want) {
			t.Errorf("%s: got %v ok=%v, want %v", c.tm, l.Time, ok, c.want)
		}
	}
}

func TestCMTraceFields(t *testing.T) {
	l, ok := ParseCMTrace(`<![LOG[Getting CCM Token from https://cmg/CCM_STS]LOG]!><time="08:29:35.123+000" date="06-24-2020" component="ccmsetup" context="" type="3" thread="4992" file="">`)
	if !ok || l.Text != "Getting CCM Token from https://cmg/CCM_STS" || l.Component != "ccmsetup" || l.Type != 3 || l.Thread != "4992" || l.Format != FormatCMTrace {
		t.Errorf("got %+v", l)
	}
}

func TestSiteServerLine(t *testing.T) {
	l, ok := ParseSite(`RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  RequestSize: 1974 Bytes  ResponseCount: 1  ResponseSize: 1566 Bytes  AverageElapsedTime: 218 ms~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>`)
	if !ok || l.Component != "CMGService" || l.Thread != "4992 (0x1380)" || !l.Time.Equal(time.Date(2020, 6, 24, 15, 31, 46, 376e6, time.UTC)) ||
		!strings.HasPrefix(l.Text, "RequestUri: /CCM_PROXY_SERVERAUTH/") || strings.Contains(l.Text, "~~") {
		t.Errorf("got %+v", l)
	}
	l, _ = ParseSite("a~~b  $$<X><06-24-2020 15:31:46.376-60><thread=1 (0x1)>")
	if l.Text != "a\nb" || !l.Time.Equal(time.Date(2020, 6, 24, 14, 31, 46, 376e6, time.UTC)) {
		t.Errorf("~~ and bias: %+v", l)
	}
}

func TestPlainTZ(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	ls, err := readAll(t, []byte("2020-06-24 10:00:00 Renew secret key failed\nno time here\n"), ReadOptions{Location: la})
	if err != nil || len(ls) != 2 {
		t.Fatal(err, ls)
	}
	if !ls[0].Time.Equal(time.Date(2020, 6, 24, 17, 0, 0, 0, time.UTC)) || ls[0].Text != "Renew secret key failed" {
		t.Errorf("plain with --tz: %+v", ls[0])
	}
	if !ls[1].Time.IsZero() || ls[1].Num != 2 {
		t.Errorf("no time: %+v", ls[1])
	}
}

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestEncodingsAndMultiLine(t *testing.T) {
	rec := "<![LOG[first line\nsecond line – ü 😀\nthird]LOG]!><time=\"10:00:00.000+480\" date=\"06-24-2020\" component=\"c\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n" +
		"<![LOG[next]LOG]!><time=\"10:00:01.000+480\" date=\"06-24-2020\" component=\"c\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n"
	for name, data := range map[string][]byte{
		"utf-8":     []byte(rec),
		"utf-8 bom": append([]byte{0xEF, 0xBB, 0xBF}, rec...),
		"utf-16le":  utf16le(rec),
	} {
		ls, err := readAll(t, data, ReadOptions{})
		if err != nil || len(ls) != 2 {
			t.Fatalf("%s: %v %d lines", name, err, len(ls))
		}
		if ls[0].Text != "first line\nsecond line – ü 😀\nthird" || ls[0].Num != 1 || ls[1].Num != 4 || ls[1].Text != "next" {
			t.Errorf("%s: %q (line %d), %q (line %d)", name, ls[0].Text, ls[0].Num, ls[1].Text, ls[1].Num)
		}
	}
}

func TestBadInput(t *testing.T) {
	// binary
	_, err := readAll(t, []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2}, ReadOptions{})
	if !errors.Is(err, ErrUnknownEncoding) || !strings.Contains(err.Error(), "test.log") {
		t.Errorf("binary: %v", err)
	}
	// UTF-16BE is named
	_, err = readAll(t, []byte{0xFE, 0xFF, 0, 'a'}, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "UTF-16BE") {
		t.Errorf("utf-16be: %v", err)
	}
	// an over-long line is cut with a warning, and the next line is read
	var warns []string
	long := strings.Repeat("x", MaxLineBytes+100)
	ls, err := readAll(t, []byte(long+"\nafter\n"), ReadOptions{Warn: func(s string) { warns = append(warns, s) }})
	if err != nil || len(ls) != 2 || len(ls[0].Text) != MaxLineBytes || ls[1].Text != "after" || len(warns) != 1 || !strings.Contains(warns[0], "test.log:1") {
		t.Errorf("long line: err %v, %d lines, warns %v", err, len(ls), warns)
	}
	// a truncated (never closed) CMTrace record at the end is read as text
	warns = nil
	ls, err = readAll(t, []byte("<![LOG[cut off\nmore"), ReadOptions{Warn: func(s string) { warns = append(warns, s) }})
	if err != nil || len(ls) != 1 || ls[0].Format != FormatPlain || !strings.Contains(ls[0].Text, "cut off") || len(warns) != 1 {
		t.Errorf("truncated record: %v %+v %v", err, ls, warns)
	}
}

func TestLogOrderRolledOverFirst(t *testing.T) {
	names := []string{"dir/ccmsetup.log", "dir/CCMSETUP.LO_", "dir/CcmMessaging.log", "dir/CcmMessaging.lo_"}
	logOrder(names)
	if got := strings.Join(names, " "); got != "dir/CcmMessaging.lo_ dir/CcmMessaging.log dir/CCMSETUP.LO_ dir/ccmsetup.log" {
		t.Errorf("order %s", got)
	}
}
