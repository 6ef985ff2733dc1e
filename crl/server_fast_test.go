package crl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// decodeGetPathRef is the GET decoding decodeGetPath replaced: url.PathUnescape,
// spaces read as '+', then padded or unpadded base64.
func decodeGetPathRef(escaped string) ([]byte, bool) {
	raw, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, false
	}
	raw = strings.ReplaceAll(raw, " ", "+")
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		if der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(raw, "=")); err != nil {
			return nil, false
		}
	}
	return der, true
}

// FuzzDecodeGetPath checks the one-pass GET decoding against the
// url.PathUnescape and base64 steps it replaced, byte for byte.
func FuzzDecodeGetPath(f *testing.F) {
	for _, s := range []string{"", "MAo=", "MAo", "MAo%3D", "MA%2Bo", "MA+o", "MA%20o", "MA o", "a/b//c==", "%", "%2", "%zz", "%2f%2F",
		"MEUwQzBBMD8wPTAJBgUrDgMCGgUABBQ%2FvRjHmTRbJ8Xx%2BIcFl0%2Bn3vLrGQQU%3D%3D", "==", "A===", "AA\r\nAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodeGetPath(s)
		want, wok := decodeGetPathRef(s)
		if ok != wok || ok && !bytes.Equal(got, want) {
			t.Fatalf("decodeGetPath(%q) = %x, %v; want %x, %v", s, got, ok, want, wok)
		}
	})
}

// TestRequestPathIsEscapedPath: for requests read by net/http's server
// parser, the raw request target's path is URL.EscapedPath, so routing on
// it changes nothing; both keep "//", "+" and percent escapes.
func TestRequestPathIsEscapedPath(t *testing.T) {
	for _, target := range []string{"/ocsp", "/ocsp/", "/ocsp/MA%2Bo%2F%3D", "/ocsp/MA+o//x==", "/ocsp//a", "/ocsp/a?b=c",
		"/crl/issuing-ca.crl", "/ca/root-ca.cer", "/healthz", "/pki/ocsp/MA%2bo", "/ocsp/%41%42", "/ocsp/a%20b"} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got, want := requestPath(r), r.URL.EscapedPath(); got != want {
			t.Errorf("%s: requestPath %q, EscapedPath %q", target, got, want)
		}
	}
	// A request not from a server (no RequestURI) falls back to EscapedPath.
	r, _ := http.NewRequest(http.MethodGet, "http://x/ocsp/MA%2Bo", nil)
	if got := requestPath(r); got != "/ocsp/MA%2Bo" {
		t.Errorf("client request: requestPath %q", got)
	}
}
