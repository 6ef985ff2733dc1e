package diagnose

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
)

// benchLogs writes about total bytes of mixed logs into dir: client logs in
// CMTrace (one of them UTF-16LE), site logs in the site-server format and a
// plain log, repeating the documented flow and one failure.
func benchLogs(tb testing.TB, dir string, total int) {
	var lines []string
	for _, p := range []string{"flows/documented", "signatures/F02", "signatures/F17v", "signatures/F08"} {
		files, _ := filepath.Glob(filepath.Join("testdata", p, "*"))
		for _, f := range files {
			ReadLog(mustOpen(tb, f), f, ReadOptions{}, func(l Line) error {
				lines = append(lines, l.Text)
				return nil
			})
		}
	}
	per := total / 5
	write := func(name string, utf16le bool, render func(i int, text string) string) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if utf16le {
			w.Write([]byte{0xFF, 0xFE})
		}
		n := 0
		for i := 0; n < per; i++ {
			s := render(i, lines[i%len(lines)]) + "\r\n"
			if utf16le {
				for _, u := range utf16.Encode([]rune(s)) {
					w.WriteByte(byte(u))
					w.WriteByte(byte(u >> 8))
				}
				n += 2 * len(s)
			} else {
				w.WriteString(s)
				n += len(s)
			}
		}
		w.Flush()
		f.Close()
	}
	t0 := time.Date(2020, 6, 24, 8, 0, 0, 0, time.UTC)
	cmt := func(comp string) func(int, string) string {
		return func(i int, s string) string {
			t := t0.Add(time.Duration(i) * time.Millisecond)
			return fmt.Sprintf(`<![LOG[%s]LOG]!><time="%s-120" date="%s" component="%s" context="" type="1" thread="4992" file="">`, s, t.Format("15:04:05.000"), t.Format("01-02-2006"), comp)
		}
	}
	write("ccmsetup.log", false, cmt("ccmsetup"))
	write("LocationServices.log", true, cmt("LocationServices"))
	write("CcmMessaging.log", false, cmt("CcmMessaging"))
	write("SMS_CLOUD_PROXYCONNECTOR.log", false, func(i int, s string) string {
		t := t0.Add(time.Duration(i) * time.Millisecond)
		return fmt.Sprintf("%s  $$<SMS_CLOUD_PROXYCONNECTOR><%s+00><thread=4992 (0x1380)>", strings.ReplaceAll(s, "\n", "~~"), t.Format("01-02-2006 15:04:05.000"))
	})
	write("console.txt", false, func(i int, s string) string {
		return t0.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02 15:04:05") + " " + s
	})
}

func mustOpen(tb testing.TB, p string) *os.File {
	f, err := os.Open(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// BenchmarkDiagnose100MB diagnoses 100 MB of mixed logs and reports the
// throughput and the peak heap in use (live heap objects, sampled every 5 ms).
func BenchmarkDiagnose100MB(b *testing.B) {
	dir := b.TempDir()
	benchLogs(b, dir, 100<<20)
	var size int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	b.SetBytes(size)
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	b.ResetTimer()
	var res *Result
	for i := 0; i < b.N; i++ {
		var err error
		res, err = Diagnose(context.Background(), []string{dir}, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	if len(res.Findings) == 0 {
		b.Fatal("no finding in the mixed logs")
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(size)/(1<<20), "input-MB")
}
