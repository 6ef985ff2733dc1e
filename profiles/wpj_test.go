package profiles

import (
	"bytes"
	"strings"
	"testing"
)

// The [DVRJ] 4.1 example: bytes FA C6 53 9D 8E B3 09 45 ... are the GUID
// 9d53c6fa-b38e-4509-...: the first three groups are little-endian.
func TestGUIDMixedEndian(t *testing.T) {
	g, err := ParseGUID("9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xFA, 0xC6, 0x53, 0x9D, 0x8E, 0xB3, 0x09, 0x45, 0x8d, 0x2c, 0x1e, 0x5a, 0x7b, 0x3c, 0x9f, 0x01}
	if !bytes.Equal(g[:], want) {
		t.Errorf("ParseGUID = % X, want % X", g[:], want)
	}
	if s := FormatGUID(g); s != "9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01" {
		t.Errorf("FormatGUID = %s", s)
	}
	for _, bad := range []string{"", "9d53c6fa-b38e-4509-8d2c", "zz53c6fa-b38e-4509-8d2c-1e5a7b3c9f01", "{9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01}"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) accepted", bad)
		}
	}
}

func TestWPJExtensionBytes(t *testing.T) {
	id := WPJIdentity{DeviceID: "9d53c6fa-b38e-4509-8d2c-1e5a7b3c9f01", InvocationID: "00000000-0000-0000-0000-000000000001",
		UserID: "00000000-0000-0000-0000-000000000002", DomainID: "00000000-0000-0000-0000-000000000003", JoinType: '1'}
	exts, err := WPJExtensions(id)
	if err != nil {
		t.Fatal(err)
	}
	wantOIDs := []string{"1.2.840.113556.1.5.284.1", "1.2.840.113556.1.5.284.2", "1.2.840.113556.1.5.284.3", "1.2.840.113556.1.5.284.4", "1.2.840.113556.1.5.284.7"}
	for i, e := range exts {
		if e.Id.String() != wantOIDs[i] || e.Critical {
			t.Errorf("extension %d = %s critical=%t, want %s non-critical", i, e.Id, e.Critical, wantOIDs[i])
		}
	}
	dev := append([]byte{0x04, 0x81, 0x10}, 0xFA, 0xC6, 0x53, 0x9D, 0x8E, 0xB3, 0x09, 0x45, 0x8d, 0x2c, 0x1e, 0x5a, 0x7b, 0x3c, 0x9f, 0x01)
	if !bytes.Equal(exts[1].Value, dev) {
		t.Errorf("device ID value = % X, want % X", exts[1].Value, dev)
	}
	if !bytes.Equal(exts[4].Value, []byte{0x04, 0x81, 0x01, 0x31}) {
		t.Errorf("join type value = % X, want 04 81 01 31", exts[4].Value)
	}
	id.JoinType = '2'
	if _, err := WPJExtensions(id); err == nil {
		t.Error("join type '2' accepted")
	}
}

func TestParseWPJValue(t *testing.T) {
	if v, err := ParseWPJValue([]byte{0x04, 0x81, 0x02, 'E', 'U'}); err != nil || string(v) != "EU" {
		t.Errorf("ParseWPJValue(region) = %q, %v", v, err)
	}
	for name, in := range map[string][]byte{
		"minimal length": {0x04, 0x02, 'E', 'U'},
		"short":          {0x04},
		"length lies":    {0x04, 0x81, 0x05, 'E', 'U'},
		"not octets":     {0x0c, 0x81, 0x02, 'E', 'U'},
	} {
		if _, err := ParseWPJValue(in); err == nil {
			t.Errorf("%s: ParseWPJValue(% X) accepted", name, in)
		}
	}
}

func TestWPJIssuerRDN(t *testing.T) {
	der, err := WPJIssuerRDN("MS-Organization-Access", WPJCAGUID)
	if err != nil {
		t.Fatal(err)
	}
	// One RDN (a SET) holding four attributes; DC values are IA5String (0x16).
	if der[0] != 0x30 || der[2] != 0x31 {
		t.Fatalf("not a SEQUENCE holding one SET: % X", der[:4])
	}
	if !bytes.Contains(der, []byte{0x16, 0x03, 'n', 'e', 't'}) || !bytes.Contains(der, []byte{0x16, 0x07, 'w', 'i', 'n', 'd', 'o', 'w', 's'}) {
		t.Error("DC=net and DC=windows are not IA5String")
	}
	if !bytes.Contains(der, append([]byte{0x13, 0x16}, "MS-Organization-Access"...)) {
		t.Error("CN is not a PrintableString MS-Organization-Access")
	}
}

func TestCheckDNSName(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wildcard bool
		err      string
	}{
		{"cmg.contoso.com", false, ""},
		{"*.contoso.com", true, ""},
		{"*.contoso.com", false, "does not allow wildcards"},
		{"cmg.*.contoso.com", true, "whole leftmost label"},
		{"c*g.contoso.com", true, "whole leftmost label"},
		{"*.com", true, "at least two labels"},
		{"cmg", false, "not fully qualified"},
		{"bad..name.com", false, `label ""`},
		{"-cmg.contoso.com", false, `label "-cmg"`},
		{"cmg_01.contoso.com", false, `label "cmg_01"`},
		{strings.Repeat("a", 64) + ".com", false, "1-63"},
	} {
		err := CheckDNSName(tc.name, tc.wildcard)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("CheckDNSName(%q) = %v, want nil", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CheckDNSName(%q) = %v, want error containing %q", tc.name, err, tc.err)
		}
	}
}

func TestCheckCMGServiceName(t *testing.T) {
	for name, ok := range map[string]bool{
		"cmg.contoso.com": true, "granitefalls.contoso.com": true, "*.contoso.com": true,
		"cmg-01.contoso.com": false, "cm.contoso.com": false, "GRANITEFALLS.contoso.com": false,
		strings.Repeat("a", 25) + ".contoso.com": false,
	} {
		if err := CheckCMGServiceName(name); (err == nil) != ok {
			t.Errorf("CheckCMGServiceName(%q) = %v, want ok=%t", name, err, ok)
		}
	}
}
