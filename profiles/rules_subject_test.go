package profiles

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// result runs every rule on s at env and returns the one named rule.
func result(t *testing.T, s Subject, env lint.Env, rule string) lint.Result {
	t.Helper()
	rep := LintSubject(s, env)
	i := slices.IndexFunc(rep.Results, func(r lint.Result) bool { return r.Rule == rule })
	if i < 0 {
		t.Fatalf("rule %s did not run", rule)
	}
	return rep.Results[i]
}

// TestExpiringSoon: a warning within 30 days of Env.At, nothing outside it
// (e_not_valid_at speaks for an expired certificate) or without a moment.
func TestExpiringSoon(t *testing.T) {
	rk, _ := testKeys(t)
	c := sign(t, goodTemplate(t, CMGServer), rk) // notAfter = at + 365 days
	for _, tc := range []struct {
		name   string
		at     time.Time
		want   lint.Status
		detail string
	}{
		{"a_year_left", at, lint.Pass, ""},
		{"31_days_left", c.NotAfter.Add(-31 * 24 * time.Hour), lint.Pass, ""},
		{"30_days_left", c.NotAfter.Add(-30 * 24 * time.Hour), lint.Warn, "30 day(s) after"},
		{"1_hour_left", c.NotAfter.Add(-time.Hour), lint.Warn, "0 day(s) after"},
		{"expired_is_not_this_rule", c.NotAfter.Add(time.Hour), lint.Pass, ""},
		{"no_moment", time.Time{}, lint.Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := result(t, Subject{Cert: c, Profile: MustGet(CMGServer)}, lint.Env{At: tc.at}, "w_expiring_soon")
			if r.Status != tc.want || !strings.Contains(r.Details, tc.detail) {
				t.Errorf("w_expiring_soon = %s %q, want %s %q", r.Status, r.Details, tc.want, tc.detail)
			}
			if !r.WinError.IsZero() {
				t.Errorf("Windows error %v: a certificate that expires soon is still valid, no client logs an error", r.WinError)
			}
		})
	}
}

// TestMPExpectedNames: with --name, every intranet and internet FQDN must be
// in the subject CN or a SAN dNSName ([PKIREQ]).
func TestMPExpectedNames(t *testing.T) {
	rk, _ := testKeys(t)
	tpl := goodTemplate(t, MPHTTPS)
	tpl.Subject.CommonName, tpl.DNSNames = "mp01.corp.contoso.com", []string{"mp.contoso.com"}
	c := sign(t, tpl, rk)
	for _, tc := range []struct {
		name   string
		names  []string
		want   lint.Status
		detail string
	}{
		{"none_given", nil, lint.Pass, ""},
		{"internet_in_san", []string{"mp.contoso.com"}, lint.Pass, ""},
		{"intranet_in_cn_case_insensitive", []string{"MP01.corp.contoso.com", "mp.contoso.com"}, lint.Pass, ""},
		{"missing", []string{"mp.contoso.com", "mp02.corp.contoso.com"}, lint.Error, `["mp02.corp.contoso.com"] not in the subject CN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := result(t, Subject{Cert: c, Profile: MustGet(MPHTTPS), ExpectedNames: tc.names}, lint.Env{At: at}, "e_mp_fqdn_missing")
			if r.Status != tc.want || !strings.Contains(r.Details, tc.detail) {
				t.Errorf("e_mp_fqdn_missing = %s %q, want %s %q", r.Status, r.Details, tc.want, tc.detail)
			}
		})
	}
}

// TestClientComputerName: the client looks for its computer name in the
// Subject ([PLANCERT]); a SAN-only name is named in the details.
func TestClientComputerName(t *testing.T) {
	rk, _ := testKeys(t)
	withCN := sign(t, goodTemplate(t, PKIClient), rk) // CN and SAN host01.contoso.com
	tpl := goodTemplate(t, PKIClient)
	tpl.Subject = pkix.Name{}
	sanOnly := sign(t, tpl, rk)
	for _, tc := range []struct {
		name     string
		cert     *x509.Certificate
		computer string
		want     lint.Status
		detail   string
	}{
		{"not_given", withCN, "", lint.NA, ""},
		{"in_subject", withCN, "HOST01", lint.Pass, ""},
		{"other_computer", withCN, "client07", lint.Warn, `does not contain the computer name "client07"`},
		{"san_only", sanOnly, "host01", lint.Warn, "the SAN host01.contoso.com does, but the client looks in the Subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := result(t, Subject{Cert: tc.cert, Profile: MustGet(PKIClient), ComputerName: tc.computer}, lint.Env{At: at}, "w_client_computer_name_missing")
			if r.Status != tc.want || !strings.Contains(r.Details, tc.detail) {
				t.Errorf("w_client_computer_name_missing = %s %q, want %s %q", r.Status, r.Details, tc.want, tc.detail)
			}
		})
	}
}
