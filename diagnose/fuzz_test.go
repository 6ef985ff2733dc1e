package diagnose

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets: each line parser and the whole reader must never
// panic, and must keep their invariants on any input. Seeds are committed
// under testdata/fuzz/<Target>/ and include the documented lines.

func FuzzParseCMTrace(f *testing.F) {
	f.Add(`<![LOG[Getting AAD info from CMG 'CMG.CLOUDAPP.NET']LOG]!><time="10:00:00.000+480" date="06-24-2020" component="ccmsetup" context="" type="1" thread="4992" file="">`)
	f.Add(`<![LOG[x]LOG]!><time="" date="" component="`)
	f.Add(`<![LOG[]LOG]!>`)
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := ParseCMTrace(s)
		if ok && !strings.HasPrefix(s, "<![LOG[") {
			t.Fatalf("accepted a line that is not CMTrace: %q", s)
		}
		if ok && !strings.Contains(s, l.Text) {
			t.Fatalf("text %q not in the line", l.Text)
		}
	})
}

func FuzzParseSite(f *testing.F) {
	f.Add(`RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  AverageElapsedTime: 218 ms~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>`)
	f.Add(`$$<><>`)
	f.Add(`a $$<C><06-24-2020 15:31:46.376+999999999999><thread=`)
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := ParseSite(s)
		if ok && !strings.Contains(s, "$$<") {
			t.Fatalf("accepted %q", s)
		}
		_ = l
	})
}

func FuzzParsePlain(f *testing.F) {
	f.Add("2020-06-24 10:00:00 Renew secret key failed")
	f.Add("2020-06-24T10:00:00Z x")
	f.Add("06/24/2020 10:00:00 y")
	f.Fuzz(func(t *testing.T, s string) {
		l := ParsePlain(s, nil)
		if l.Format != FormatPlain || !strings.Contains(s, l.Text) {
			t.Fatalf("ParsePlain(%q) = %+v", s, l)
		}
	})
}

// FuzzReadLog feeds arbitrary bytes to the reader (all encodings and
// formats): it returns an error or lines, never panics, and every line
// number is increasing and text is valid UTF-8 for UTF-16 input.
func FuzzReadLog(f *testing.F) {
	for _, p := range []string{"signatures/F01/LocationServices.log", "signatures/F02/ccmsetup.log", "signatures/F25a/SMSAdminUI.log", "signatures/F11/CloudMgr.log", "signatures/F08/SMSAdminUI.log"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xFF, 0xFE, 0x3C, 0})
	f.Add([]byte("<![LOG[never closed\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		last := 0
		err := ReadLog(bytes.NewReader(b), "fuzz.log", ReadOptions{Warn: func(string) {}}, func(l Line) error {
			if l.Num <= last {
				t.Fatalf("line %d after %d", l.Num, last)
			}
			last = l.Num
			if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) && !utf8.ValidString(l.Text) {
				t.Fatalf("invalid UTF-8 from UTF-16 input: %q", l.Text)
			}
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "diagnose: fuzz.log") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzZip reads arbitrary bytes as a zip of logs: an error or a diagnosis,
// never a panic.
func FuzzZip(f *testing.F) {
	f.Add(zipOf(f, map[string][]byte{"Logs/ccmsetup.log": []byte("<![LOG[Getting AAD info from CMG 'x']LOG]!><time=\"10:00:00.000+000\" date=\"06-24-2020\" component=\"c\" context=\"\" type=\"1\" thread=\"1\" file=\"\">\r\n")}))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		srcs, _ := zipSourcesFrom("in.zip", func() (io.ReaderAt, int64, io.Closer, error) {
			return bytes.NewReader(b), int64(len(b)), io.NopCloser(nil), nil
		})
		a := NewAnalyzer(Options{})
		for _, s := range srcs {
			rc, err := s.open()
			if err != nil {
				continue
			}
			_ = a.Read(rc, s.name)
			rc.Close()
		}
		_ = a.Result()
	})
}

func zipOf(tb testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, d := range files {
		w, err := zw.Create(n)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(d)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBomb: an entry that inflates far beyond its compressed size is
// refused with a clear message, and the other entries are still read.
func TestZipBomb(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "logs.zip")
	good, _ := os.ReadFile("testdata/signatures/F01/LocationServices.log")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("bomb.log")
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ { // 64 MiB of zeros: about 64 KiB compressed
		w.Write(zeros)
	}
	w, _ = zw.Create("LocationServices.log")
	w.Write(good)
	zw.Close()
	os.WriteFile(p, buf.Bytes(), 0o644)
	res, err := Diagnose(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range res.Warnings {
		if strings.Contains(w, "bomb.log") && strings.Contains(w, "zip bomb guard") && strings.Contains(w, "compression ratio") {
			found = true
		}
	}
	if !found {
		t.Errorf("no zip-bomb warning: %v", res.Warnings)
	}
	if len(res.Findings) == 0 || res.Findings[0].ID != "F01" {
		t.Errorf("the good entry was not read: %+v", res.Findings)
	}
}

// TestZipEntryLimitCounted: the guard counts bytes actually inflated, not
// the sizes the header declares.
func TestZipEntryLimitCounted(t *testing.T) {
	z := &zipEntryReader{rc: io.NopCloser(strings.NewReader(strings.Repeat("a", 100))), zc: io.NopCloser(nil), left: 10, name: "x.zip!a.log"}
	b, err := io.ReadAll(z)
	if len(b) != 10 || !errors.Is(err, ErrZipBomb) {
		t.Errorf("read %d bytes, err %v", len(b), err)
	}
}
