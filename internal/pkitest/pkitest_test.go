package pkitest

import (
	"strings"
	"testing"
	"time"
)

func TestParseAt(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "2026-11-22T08:00:00Z", ""},
		{"2020-12-01T21:45:22Z", "2020-12-01T21:45:22Z", ""},
		{"2030-06-01T10:00:00.75+02:00", "2030-06-01T08:00:00Z", ""},
		{" 2030-06-01T08:00:00Z\n", "2030-06-01T08:00:00Z", ""},
		{"2020-12-01", "", `CMGPKI_TEST_NOW="2020-12-01" is not an RFC 3339 time`},
		{"yesterday", "", "is not an RFC 3339 time"},
		{"1800-01-01T00:00:00Z", "", "out of the range"},
	} {
		got, err := parseAt(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseAt(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339Nano) != tc.want || got.Location() != time.UTC {
			t.Errorf("parseAt(%q) = %s, %v; want %s", tc.in, got.Format(time.RFC3339Nano), err, tc.want)
		}
	}
}

func TestMustAtPanicsOnABadValue(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "CMGPKI_TEST_NOW") {
			t.Errorf("recovered %v, want a panic naming CMGPKI_TEST_NOW", r)
		}
	}()
	mustAt("not-a-time")
}

func TestHelpersFollowAt(t *testing.T) {
	if AtUnix() != AtUnixPlus(0) || Clock().Now() != At || Fixed().Now() != At {
		t.Error("helpers disagree with At")
	}
	if AtUnixPlus(time.Minute) == AtUnix() {
		t.Error("AtUnixPlus ignores its argument")
	}
}

func TestCheckTimeArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"verify", "-CAfile", "r.crt", "leaf.crt"}, false},
		{[]string{"verify", "-CAfile", "r.crt", "-attime", "1", "leaf.crt"}, true},
		{[]string{"verify", "-no_check_time", "leaf.crt"}, true},
		{[]string{"s_client", "-connect", "127.0.0.1:1"}, false},
		{[]string{"ocsp", "-respin", "r.der", "-CAfile", "r.crt"}, false},
		{[]string{"ocsp", "-respin", "r.der", "-attime", "1"}, false},
		{[]string{"ocsp", "-url", "http://x", "-attime", "1", "-validity_period", "9"}, true},
		{[]string{"ocsp", "-respin", "r.der", "-noverify"}, true},
		{[]string{"ocsp", "-issuer", "i.crt", "-cert", "c.crt", "-reqout", "q.der"}, true},
		{[]string{"crl", "-in", "c.pem", "-noout", "-text"}, true},
		{[]string{"pkcs12", "-in", "a.pfx", "-noout"}, true},
		{nil, true},
	} {
		if err := CheckTimeArgs(tc.args); (err == nil) != tc.ok {
			t.Errorf("CheckTimeArgs(%q) = %v, want ok=%t", tc.args, err, tc.ok)
		}
	}
}
