package profiles

import "testing"

// TestRulesNoWindowsErrorWithoutClientFailure: a rule whose condition does not
// make a client fail names no Windows error: SHA-1 under an enterprise root
// builds (windows-trust.md §1; SHA-2 is a ConfigMgr requirement), an ldap://
// URL ahead of an http:// one still checks, a missing AIA does not break a
// chain the client can complete, a certificate that expires soon is valid,
// and a CN missing from a SAN is still matched through the SAN.
func TestRulesNoWindowsErrorWithoutClientFailure(t *testing.T) {
	quiet := map[string]bool{"e_signature_not_sha2": true, "w_revocation_url_not_http": true, "w_aia_missing": true,
		"w_expiring_soon": true, "w_cn_not_in_san": true}
	seen := 0
	for _, m := range Rules().Rules() {
		if quiet[m.Name] {
			seen++
			if !m.WinError.IsZero() {
				t.Errorf("%s names %v", m.Name, m.WinError)
			}
		}
		if m.Name == "w_cdp_missing" && m.WinError.IsZero() {
			t.Error("w_cdp_missing lost CRYPT_E_NO_REVOCATION_CHECK (no pointer at all)")
		}
	}
	if seen != len(quiet) {
		t.Errorf("%d of %d rules found", seen, len(quiet))
	}
}
