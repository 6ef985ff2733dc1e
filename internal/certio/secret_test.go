package certio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16File(s string, bigEndian bool) []byte {
	out := []byte{0xFF, 0xFE}
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// TestReadSecretFileEncodings: what Windows tools write decodes to the
// password typed; what cannot be decoded is refused, naming the file.
func TestReadSecretFileEncodings(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		data    []byte
		want    string // password, or "" for an error
		wantErr string
	}{
		{"plain", []byte("s3cret"), "s3cret", ""},
		{"LF", []byte("s3cret\n"), "s3cret", ""},
		{"CRLF", []byte("s3cret\r\n"), "s3cret", ""},
		{"UTF-8 BOM (Set-Content -Encoding UTF8 on PowerShell 5.1)", []byte("\xEF\xBB\xBFs3cret\r\n"), "s3cret", ""},
		{"UTF-16 LE BOM (PowerShell 5.1 >)", utf16File("s3cr\u00e9t\r\n", false), "s3cr\u00e9t", ""},
		{"UTF-16 BE BOM", utf16File("s3cret\n", true), "s3cret", ""},
		{"UTF-16 LE surrogate pair", utf16File("pw\U0001F511", false), "pw\U0001F511", ""},
		{"spaces are kept", []byte(" pass word \n"), " pass word ", ""},
		{"UTF-16 without BOM", []byte("s\x003\x00c\x00"), "", "NUL bytes"},
		{"invalid UTF-8", []byte("caf\xe9\n"), "", "not valid UTF-8"},
		{"empty", []byte("\n"), "", "is empty"},
		{"BOM only", []byte("\xEF\xBB\xBF\r\n"), "", "is empty"},
		{"UTF-16 BOM only", utf16File("\r\n", false), "", "is empty"},
		{"two lines", []byte("one\ntwo\n"), "", "more than one line"},
		{"odd UTF-16", append(utf16File("ab", false), 'c'), "", "odd number of bytes"},
		{"unpaired surrogate", []byte{0xFF, 0xFE, 0x3D, 0xD8}, "", "unpaired surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "pw.txt")
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSecretFile(p)
			if tc.wantErr == "" {
				if err != nil || string(got) != tc.want {
					t.Fatalf("ReadSecretFile = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadSecretFile = %q, want an error with %q", got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q should name %s and say %q", err, p, tc.wantErr)
			}
		})
	}
}
