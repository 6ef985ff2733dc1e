package profiles

import (
	"strings"
	"testing"
)

// TestCheckDNSNameRefusesIPAddresses: an IP address is not a dNSName; no
// CMG role takes an IP SAN, so it is refused with a message saying so.
func TestCheckDNSNameRefusesIPAddresses(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"10.0.0.1", "is an IP address"},
		{"192.168.001.010", "all digits"}, // not a valid IPv4 for netip, still no FQDN
		{"fe80::1", "is an IP address"},
		{"[2001:db8::1]", "is an IP address"},
		{"host.123", "all digits"},
		{"mp01.corp.contoso.com", ""},
		{"10-0-0-1.contoso.com", ""},
		{"1.contoso.com", ""},
	} {
		err := CheckDNSName(tc.name, false)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckDNSName(%q) = %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckDNSName(%q) = %v, want %q", tc.name, err, tc.want)
		}
	}
}
