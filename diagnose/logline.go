package diagnose

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Format is the format a log line was recognised in.
type Format string

// The formats.
const (
	FormatCMTrace Format = "cmtrace" // <![LOG[...]LOG]!><time=... date=... component=...>
	FormatSite    Format = "site"    // message  $$<Component><MM-dd-yyyy HH:mm:ss.fff+BIAS><thread=N (0xHEX)>
	FormatPlain   Format = "plain"   // anything else; a leading timestamp is read in --tz
)

// Line is one log record: a CMTrace record may span several physical
// lines; Num is the number of its first line in its file (1-based).
type Line struct {
	File      string    `json:"file"`
	Num       int       `json:"line"`
	Time      time.Time `json:"time,omitzero"` // UTC; zero when the line carries no time
	Component string    `json:"component,omitempty"`
	Type      int       `json:"type,omitempty"` // CMTrace type: 1 info, 2 warning, 3 error
	Thread    string    `json:"thread,omitempty"`
	Text      string    `json:"text"`
	Format    Format    `json:"format"`
}

// Limits of the reader: memory stays bounded however large the input.
const (
	// MaxLineBytes is the longest physical line kept; the rest of a longer
	// line is skipped with a warning.
	MaxLineBytes = 64 << 10
	// MaxRecordLines is the most physical lines one CMTrace record may span
	// before it is cut (a "<![LOG[" never closed).
	MaxRecordLines = 200
)

// ReadOptions tune the reader.
type ReadOptions struct {
	// Location is the zone of plain-text timestamps (--tz); nil is UTC.
	// CMTrace and site-server lines carry their own UTC bias.
	Location *time.Location
	// Warn receives problems that do not stop reading (a truncated line, a
	// record never closed); nil drops them.
	Warn func(msg string)
}

// ErrUnknownEncoding is returned for input that is neither UTF-8 nor
// UTF-16LE with a BOM (binary files, UTF-16 without a BOM, UTF-32).
var ErrUnknownEncoding = errors.New("unknown encoding or binary data (expected UTF-8, UTF-8 with a BOM or UTF-16LE with a BOM)")

// ReadLog reads one log from r, calling fn for each record in order. name
// is the file name used in Line.File and in messages. It streams: the
// memory used is bounded by MaxLineBytes × MaxRecordLines whatever the size
// of r. An error from fn stops reading and is returned as is.
func ReadLog(r io.Reader, name string, opt ReadOptions, fn func(Line) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	src, err := decoder(br)
	if err != nil {
		return fmt.Errorf("diagnose: %s: %w", name, err)
	}
	lr := &lineReader{r: src, name: name, warn: opt.Warn}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	var rec strings.Builder
	recStart, recLines := 0, 0
	flush := func() error {
		if recLines == 0 {
			return nil
		}
		s := rec.String()
		rec.Reset()
		n := recLines
		recLines = 0
		l, ok := ParseCMTrace(s)
		if !ok {
			if opt.Warn != nil {
				opt.Warn(fmt.Sprintf("%s:%d: CMTrace record not closed after %d lines; read as plain text", name, recStart, n))
			}
			l = ParsePlain(s, loc)
		}
		l.File, l.Num = name, recStart
		return fn(l)
	}
	for {
		text, num, err := lr.next()
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("diagnose: %s:%d: %w", name, num, err)
		}
		if recLines > 0 {
			// inside a multi-line CMTrace record
			rec.WriteByte('\n')
			rec.WriteString(text)
			recLines++
			if strings.Contains(text, "]LOG]!>") || recLines >= MaxRecordLines {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if strings.HasPrefix(text, "<![LOG[") && !strings.Contains(text, "]LOG]!>") {
			rec.WriteString(text)
			recStart, recLines = num, 1
			continue
		}
		var l Line
		if strings.HasPrefix(text, "<![LOG[") {
			var ok bool
			if l, ok = ParseCMTrace(text); !ok {
				l = ParsePlain(text, loc)
			}
		} else if strings.Contains(text, "$$<") {
			var ok bool
			if l, ok = ParseSite(text); !ok {
				l = ParsePlain(text, loc)
			}
		} else {
			l = ParsePlain(text, loc)
		}
		l.File, l.Num = name, num
		if err := fn(l); err != nil {
			return err
		}
	}
}

// decoder detects the encoding from the first bytes and returns a reader
// of UTF-8.
func decoder(br *bufio.Reader) (io.Reader, error) {
	head, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}):
		return nil, fmt.Errorf("UTF-32LE: %w", ErrUnknownEncoding)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		br.Discard(2)
		return &utf16LEReader{r: br}, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, fmt.Errorf("UTF-16BE: %w", ErrUnknownEncoding)
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, fmt.Errorf("NUL bytes in the first %d bytes: %w", len(head), ErrUnknownEncoding)
	}
	if len(head) >= 64 && !utf8.Valid(head[:len(head)-4]) && !mostlyText(head) {
		return nil, ErrUnknownEncoding
	}
	return br, nil
}

// mostlyText reports whether b looks like text in a legacy code page
// (Windows-1252 logs exist): few control characters.
func mostlyText(b []byte) bool {
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctl++
		}
	}
	return ctl*20 < len(b)
}

// utf16LEReader turns UTF-16LE into UTF-8, streaming. Unpaired surrogates
// become U+FFFD.
type utf16LEReader struct {
	r       *bufio.Reader
	pending []byte // UTF-8 not yet returned
	hi      uint16 // a high surrogate waiting for its pair
	err     error
}

func (u *utf16LEReader) Read(p []byte) (int, error) {
	for len(u.pending) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		var buf [4096]byte
		n, err := io.ReadFull(u.r, buf[:])
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			u.err = io.EOF
		} else if err != nil {
			u.err = err
		}
		if n%2 == 1 { // odd trailing byte: truncated file
			n--
		}
		out := u.pending[:0]
		for i := 0; i+1 < n; i += 2 {
			c := uint16(buf[i]) | uint16(buf[i+1])<<8
			var r rune
			switch {
			case u.hi != 0 && utf16.IsSurrogate(rune(c)) && c >= 0xDC00:
				r = utf16.DecodeRune(rune(u.hi), rune(c))
				u.hi = 0
			case c >= 0xD800 && c < 0xDC00:
				if u.hi != 0 {
					out = utf8.AppendRune(out, utf8.RuneError)
				}
				u.hi = c
				continue
			default:
				if u.hi != 0 {
					out = utf8.AppendRune(out, utf8.RuneError)
					u.hi = 0
				}
				r = rune(c)
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		}
		u.pending = out
	}
	n := copy(p, u.pending)
	u.pending = u.pending[n:]
	return n, nil
}

// lineReader yields physical lines without their line ending; a line longer
// than MaxLineBytes is cut there and the rest skipped.
type lineReader struct {
	r    io.Reader
	br   *bufio.Reader
	name string
	num  int
	warn func(string)
}

func (l *lineReader) next() (string, int, error) {
	if l.br == nil {
		if b, ok := l.r.(*bufio.Reader); ok {
			l.br = b
		} else {
			l.br = bufio.NewReaderSize(l.r, MaxLineBytes)
		}
	}
	l.num++
	var line []byte
	truncated := false
	for {
		frag, err := l.br.ReadSlice('\n')
		if len(line) < MaxLineBytes {
			room := MaxLineBytes - len(line)
			if len(frag) > room {
				line = append(line, frag[:room]...)
				truncated = true
			} else {
				line = append(line, frag...)
			}
		} else if len(frag) > 0 {
			truncated = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) == 0 {
			return "", l.num, io.EOF
		}
		if err != nil && err != io.EOF {
			return "", l.num, err
		}
		break
	}
	if truncated && l.warn != nil {
		l.warn(fmt.Sprintf("%s:%d: line longer than %d bytes; the rest was skipped", l.name, l.num, MaxLineBytes))
	}
	line = bytes.TrimRight(line, "\r\n")
	return string(line), l.num, nil
}

// ParseCMTrace parses one CMTrace record (which may hold line breaks in its
// message). ok is false when s is not a CMTrace record. The time attribute
// is local time followed by the Windows UTC bias in minutes: UTC = local +
// bias, so `time="10:00:00.000+480"` is 18:00Z (windows-trust.md §6).
func ParseCMTrace(s string) (Line, bool) {
	if !strings.HasPrefix(s, "<![LOG[") {
		return Line{}, false
	}
	end := strings.LastIndex(s, "]LOG]!>")
	if end < 0 {
		return Line{}, false
	}
	l := Line{Text: s[len("<![LOG["):end], Format: FormatCMTrace}
	attrs := s[end+len("]LOG]!>"):]
	tm, date := attr(attrs, "time"), attr(attrs, "date")
	l.Component = attr(attrs, "component")
	l.Thread = attr(attrs, "thread")
	if t, err := strconv.Atoi(attr(attrs, "type")); err == nil {
		l.Type = t
	}
	if t, ok := cmTime(date, tm); ok {
		l.Time = t
	}
	return l, true
}

// attr returns the value of name="..." in s.
func attr(s, name string) string {
	i := 0
	for {
		j := strings.Index(s[i:], name+`="`)
		if j < 0 {
			return ""
		}
		j += i
		if j == 0 || s[j-1] == ' ' || s[j-1] == '<' {
			v := s[j+len(name)+2:]
			if k := strings.IndexByte(v, '"'); k >= 0 {
				return v[:k]
			}
			return ""
		}
		i = j + 1
	}
}

// cmTime reads date "MM-dd-yyyy" and time "HH:mm:ss.fff+BIAS" (the bias in
// minutes, sign included, possibly absent) as UTC.
func cmTime(date, tm string) (time.Time, bool) {
	if date == "" || tm == "" {
		return time.Time{}, false
	}
	bias := 0
	if i := strings.LastIndexAny(tm, "+-"); i > 0 {
		b, err := strconv.Atoi(tm[i:])
		if err != nil {
			return time.Time{}, false
		}
		bias, tm = b, tm[:i]
	}
	if t, ok := fastCMTime(date, tm); ok {
		return t.Add(time.Duration(bias) * time.Minute), true
	}
	var t time.Time
	var err error
	for _, layout := range []string{"01-02-2006 15:04:05.000", "1-2-2006 15:04:05.000", "01-02-2006 15:04:05", "1-2-2006 15:04:05.999999999"} {
		if t, err = time.ParseInLocation(layout, date+" "+tm, time.UTC); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, false
	}
	// UTC = local + bias.
	return t.Add(time.Duration(bias) * time.Minute), true
}

// ParseSite parses a site-server line: `message  $$<Component><MM-dd-yyyy
// HH:mm:ss.fff+BIAS><thread=N (0xHEX)>`. "~~" in the message stands for a
// line break and is kept as "\n". ok is false when s is not in that format.
func ParseSite(s string) (Line, bool) {
	i := strings.LastIndex(s, "$$<")
	if i < 0 {
		return Line{}, false
	}
	rest := s[i+3:]
	c := strings.IndexByte(rest, '>')
	if c < 0 || !strings.HasPrefix(rest[c:], "><") {
		return Line{}, false
	}
	l := Line{Component: rest[:c], Format: FormatSite}
	rest = rest[c+2:]
	d := strings.IndexByte(rest, '>')
	if d < 0 {
		return Line{}, false
	}
	stamp := rest[:d]
	rest = rest[d+1:]
	if sp := strings.IndexByte(stamp, ' '); sp > 0 {
		if t, ok := cmTime(stamp[:sp], stamp[sp+1:]); ok {
			l.Time = t
		}
	}
	if strings.HasPrefix(rest, "<thread=") {
		if e := strings.IndexByte(rest, '>'); e > 0 {
			l.Thread = strings.TrimSpace(rest[len("<thread="):e])
		}
	}
	msg := strings.TrimRight(s[:i], " \t")
	msg = strings.TrimSuffix(msg, "~~")
	l.Text = strings.ReplaceAll(strings.TrimRight(msg, " \t"), "~~", "\n")
	return l, true
}

// plainLayouts are the leading timestamps recognised in plain text logs.
var plainLayouts = []struct{ layout, probe string }{
	{"2006-01-02T15:04:05.999999999Z07:00", "0000-00-00T00:00:00Z"},
	{"2006-01-02 15:04:05.000", "0000-00-00 00:00:00.000"},
	{"2006-01-02 15:04:05", "0000-00-00 00:00:00"},
	{"01/02/2006 15:04:05", "00/00/0000 00:00:00"},
	{"1/2/2006 3:04:05 PM", ""},
}

// ParsePlain reads a plain text line; a leading timestamp (RFC 3339, or
// "yyyy-MM-dd HH:mm:ss[.fff]", "MM/dd/yyyy HH:mm:ss") is read in loc (RFC
// 3339 carries its own offset) and removed from Text.
func ParsePlain(s string, loc *time.Location) Line {
	l := Line{Text: s, Format: FormatPlain}
	if loc == nil {
		loc = time.UTC
	}
	if len(s) < 8 || s[0] < '0' || s[0] > '9' {
		return l
	}
	// the common "yyyy-MM-dd HH:mm:ss" without the layout machinery
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':' && (len(s) == 19 || s[19] == ' ') {
		if t, ok := fastCMTime(s[5:7]+"-"+s[8:10]+"-"+s[0:4], s[11:19]+".000"); ok {
			l.Time, l.Text = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc).UTC(), strings.TrimSpace(s[19:])
			return l
		}
	}
	if sp := strings.IndexByte(s, ' '); sp > 0 {
		// RFC 3339 first: one token.
		if t, err := time.Parse(time.RFC3339Nano, s[:sp]); err == nil {
			l.Time, l.Text = t.UTC(), strings.TrimSpace(s[sp+1:])
			return l
		}
		if sp2 := strings.IndexByte(s[sp+1:], ' '); sp2 >= 0 || len(s) > sp+1 {
			end := len(s)
			if sp2 >= 0 {
				end = sp + 1 + sp2
			}
			stamp := s[:end]
			for _, p := range plainLayouts[1:4] {
				if t, err := time.ParseInLocation(p.layout, stamp, loc); err == nil {
					l.Time, l.Text = t.UTC(), strings.TrimSpace(s[end:])
					return l
				}
			}
		}
	}
	return l
}

// fastCMTime reads the common "MM-dd-yyyy" and "HH:mm:ss.fff" exactly.
func fastCMTime(date, tm string) (time.Time, bool) {
	if len(date) != 10 || date[2] != '-' || date[5] != '-' || len(tm) != 12 || tm[2] != ':' || tm[5] != ':' || tm[8] != '.' {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	mo, ok1 := num(date[0:2])
	d, ok2 := num(date[3:5])
	y, ok3 := num(date[6:10])
	h, ok4 := num(tm[0:2])
	mi, ok5 := num(tm[3:5])
	sec, ok6 := num(tm[6:8])
	ms, ok7 := num(tm[9:12])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
	if t.Day() != d { // 02-31 and the like
		return time.Time{}, false
	}
	return t, true
}
