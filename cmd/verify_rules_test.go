package cmd

import (
	"path/filepath"
	"testing"
)

// TestVerifyCertDeploymentFlags: --previous, --cmg-trusted, --computer and
// --name reach the renewal, CMG-trusted and certificate rules.
func TestVerifyCertDeploymentFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	mustRun(t, nil, "lab", "create", "--out", dir)
	mustRun(t, nil, "issue", "cmg-server", "--lab", dir, "--name", "cmg2", "--cn", "cmg2.contoso.com")
	p := func(s string) string { return filepath.Join(dir, s) }
	base := []string{"--roots", p("ca"), "--no-crl-check", "--output", "json"}
	for _, tc := range []struct {
		name string
		args []string
		code ExitCode
		want string // a finding ID that must be there ("" none of the ones below)
		not  string // a finding ID that must not be there
	}{
		{"renewal keeps the CN", []string{p("certs/cmg-server.crt"), "--previous", p("certs/cmg-server.cer")}, ExitOK, "", "e_renewal_cn_changed"},
		{"renewal changes the CN", []string{p("certs/cmg2.crt"), "--previous", p("certs/cmg-server.crt")}, ExitFindings, "e_renewal_cn_changed", ""},
		{"CMG trusts root and intermediate", []string{p("certs/client01.crt"), "--cmg-trusted", p("ca")}, ExitOK, "", "e_cmg_trusted_intermediate_missing"},
		{"CMG lacks the intermediate", []string{p("certs/client01.crt"), "--cmg-trusted", p("ca/root-ca.crt")}, ExitFindings, "e_cmg_trusted_intermediate_missing", ""},
		{"computer name in the subject", []string{p("certs/client01.crt"), "--computer", "client01"}, ExitOK, "", "w_client_computer_name_missing"},
		{"another computer", []string{p("certs/client01.crt"), "--computer", "client77", "--fail-on", "warn"}, ExitFindings, "w_client_computer_name_missing", ""},
		{"MP with its intranet name", []string{p("certs/mp-https.crt"), "--name", "mp01.corp.contoso.com"}, ExitOK, "", "e_mp_fqdn_missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, append(append([]string{"verify", "cert"}, tc.args...), base...)...)
			d := decodeVerify(t, r)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d: %v\n%s", r.code, tc.code, d.ids(0), r.errOut)
			}
			if tc.want != "" && !d.has(0, tc.want) {
				t.Errorf("findings %v lack %s", d.ids(0), tc.want)
			}
			if tc.not != "" && d.has(0, tc.not) {
				t.Errorf("findings %v have %s", d.ids(0), tc.not)
			}
		})
	}
}
