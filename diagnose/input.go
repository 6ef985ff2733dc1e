package diagnose

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Zip limits: a zip is read entry by entry, streaming; these stop a zip
// bomb from running for ever.
const (
	// MaxZipEntries is the most entries read from one zip.
	MaxZipEntries = 10000
	// MaxZipEntryBytes is the most uncompressed bytes read from one entry.
	MaxZipEntryBytes = 1 << 30
	// MaxZipTotalBytes is the most uncompressed bytes read from one zip.
	MaxZipTotalBytes = 4 << 30
	// MaxZipRatio is the highest compression ratio accepted for an entry
	// larger than 1 MiB; deflate tops out near 1032:1, log files reach
	// 20-50:1.
	MaxZipRatio = 200
)

// ErrZipBomb is returned for a zip entry over the limits.
var ErrZipBomb = errors.New("zip entry over the size or compression-ratio limit (zip bomb guard)")

// logSource is one log to read: a file, or an entry of a zip.
type logSource struct {
	name string // shown in evidence: the path, or zip!entry
	open func() (io.ReadCloser, error)
}

// isLogName reports whether a file in a directory or zip is read: logs,
// their rolled-over copies and text files.
func isLogName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".log" || ext == ".lo_" || ext == ".txt"
}

// logOrder sorts names so that a rolled-over "X.lo_" comes just before
// "X.log" (it holds the older lines), otherwise by name.
func logOrder(names []string) {
	key := func(n string) (string, int) {
		ext := strings.ToLower(path.Ext(n))
		stem := strings.ToLower(strings.TrimSuffix(n, path.Ext(n)))
		if ext == ".lo_" {
			return stem, 0
		}
		return stem, 1
	}
	sort.SliceStable(names, func(i, j int) bool {
		si, ri := key(names[i])
		sj, rj := key(names[j])
		if si != sj {
			return si < sj
		}
		return ri < rj
	})
}

// collect expands the PATH arguments into log sources, in order. Problems
// with one path (missing, unreadable, a bad zip) are returned in skipped
// and the rest is still read; err is set only when nothing is readable.
func collect(paths []string, warn func(string)) ([]logSource, error) {
	var out []logSource
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("diagnose: PATH %s: %w", p, err)
		}
		switch {
		case st.IsDir():
			var files []string
			err := filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
				if err != nil {
					warn(fmt.Sprintf("%s: %v; skipped", fp, err))
					if d != nil && d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if d.Type().IsRegular() && (isLogName(d.Name()) || strings.EqualFold(filepath.Ext(d.Name()), ".zip")) {
					files = append(files, fp)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("diagnose: PATH %s: %w", p, err)
			}
			logOrder(files)
			for _, f := range files {
				out = append(out, fileSources(f, warn)...)
			}
		default:
			out = append(out, fileSources(p, warn)...)
		}
	}
	return out, nil
}

func fileSources(p string, warn func(string)) []logSource {
	if strings.EqualFold(filepath.Ext(p), ".zip") {
		srcs, err := zipSources(p)
		if err != nil {
			warn(err.Error() + "; skipped")
		}
		return srcs
	}
	return []logSource{{name: p, open: func() (io.ReadCloser, error) { return os.Open(p) }}}
}

// zipOpener opens the bytes of a zip: a file, or memory in tests.
type zipOpener func() (io.ReaderAt, int64, io.Closer, error)

func fileZip(p string) zipOpener {
	return func() (io.ReaderAt, int64, io.Closer, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
		return f, st.Size(), f, nil
	}
}

func openZip(name string, open zipOpener) (*zip.Reader, io.Closer, error) {
	ra, size, c, err := open()
	if err != nil {
		return nil, nil, fmt.Errorf("diagnose: zip %s: %w", name, err)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("diagnose: zip %s: %w", name, err)
	}
	return zr, c, nil
}

// zipSources lists the log entries of a zip, rolled-over entries first.
// Each entry is opened from a fresh handle of the zip when it is read, so
// no handle stays open between entries.
func zipSources(p string) ([]logSource, error) { return zipSourcesFrom(p, fileZip(p)) }

func zipSourcesFrom(p string, open zipOpener) ([]logSource, error) {
	zr, c, err := openZip(p, open)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if len(zr.File) > MaxZipEntries {
		return nil, fmt.Errorf("diagnose: zip %s: %d entries, more than %d", p, len(zr.File), MaxZipEntries)
	}
	var names []string
	var total uint64
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() && isLogName(f.Name) {
			names = append(names, f.Name)
			total += f.UncompressedSize64
		}
	}
	if total > MaxZipTotalBytes {
		return nil, fmt.Errorf("diagnose: zip %s: %w: %d bytes uncompressed in all, limit %d", p, ErrZipBomb, total, int64(MaxZipTotalBytes))
	}
	logOrder(names)
	var out []logSource
	for _, n := range names {
		n := n
		out = append(out, logSource{name: p + "!" + n, open: func() (io.ReadCloser, error) { return openZipEntry(p, n, open) }})
	}
	return out, nil
}

// zipEntryReader reads one zip entry with the bomb guard: the declared
// sizes are checked up front and the bytes actually read are counted.
type zipEntryReader struct {
	zc   io.Closer
	rc   io.ReadCloser
	left int64
	name string
}

func openZipEntry(p, name string, open zipOpener) (io.ReadCloser, error) {
	zr, c, err := openZip(p, open)
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		if err := checkZipEntry(f); err != nil {
			c.Close()
			return nil, fmt.Errorf("diagnose: zip %s: entry %s: %w", p, name, err)
		}
		rc, err := f.Open()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("diagnose: zip %s: entry %s: %w", p, name, err)
		}
		return &zipEntryReader{zc: c, rc: rc, left: MaxZipEntryBytes, name: p + "!" + name}, nil
	}
	c.Close()
	return nil, fmt.Errorf("diagnose: zip %s: entry %s: %w", p, name, fs.ErrNotExist)
}

func checkZipEntry(f *zip.File) error {
	if f.UncompressedSize64 > MaxZipEntryBytes {
		return fmt.Errorf("%w: %d bytes uncompressed, limit %d", ErrZipBomb, f.UncompressedSize64, int64(MaxZipEntryBytes))
	}
	if f.UncompressedSize64 > 1<<20 && f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > MaxZipRatio {
		return fmt.Errorf("%w: compression ratio %d:1, limit %d:1", ErrZipBomb, f.UncompressedSize64/f.CompressedSize64, MaxZipRatio)
	}
	return nil
}

func (z *zipEntryReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, fmt.Errorf("%s: %w: more than %d bytes uncompressed", z.name, ErrZipBomb, int64(MaxZipEntryBytes))
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	n, err := z.rc.Read(p)
	z.left -= int64(n)
	return n, err
}

func (z *zipEntryReader) Close() error {
	err := z.rc.Close()
	if cerr := z.zc.Close(); err == nil {
		err = cerr
	}
	return err
}
