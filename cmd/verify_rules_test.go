package cmd

import (
	"path/filepath"
	"strings"
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
		{"MP with both names", []string{p("certs/mp-https.crt"), "--name", "mp.contoso.com", "--name", "mp01.corp.contoso.com"}, ExitOK, "", "chain_name_mismatch"},
		{"MP names as a list", []string{p("certs/mp-https.crt"), "--name", "mp.contoso.com,mp01.corp.contoso.com"}, ExitOK, "", "e_mp_fqdn_missing"},
		{"CMG trusted on the CMG server", []string{p("certs/cmg-server.crt"), "--cmg-trusted", p("ca/root-ca.crt")}, ExitOK, "cmg_trusted_not_applicable", "e_cmg_trusted_intermediate_missing"},
		{"CMG trusted on the connection point", []string{p("certs/cmg-connection-point.crt"), "--profile", "cmg-connection-point", "--cmg-trusted", p("ca/root-ca.crt")}, ExitOK, "cmg_trusted_not_applicable", "e_cmg_trusted_intermediate_missing"},
		{"CMG trusted, profile none clientAuth", []string{p("certs/client01.crt"), "--profile", "none", "--eku", "clientAuth", "--cmg-trusted", p("ca/root-ca.crt")}, ExitFindings, "e_cmg_trusted_intermediate_missing", "cmg_trusted_not_applicable"},
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

// TestVerifyCertNames: --name is repeatable; the MP certificate is valid
// for its two names, and a third name it lacks is reported once, as
// chain_name_mismatch with CERT_E_CN_NO_MATCH (not also as
// e_mp_fqdn_missing); two missing names are two findings.
func TestVerifyCertNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	mustRun(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "0")
	mp := filepath.Join(dir, "certs", "mp-https.crt")
	run := func(names ...string) (result, verifyDoc) {
		args := []string{"verify", "cert", mp, "--roots", filepath.Join(dir, "ca"), "--no-crl-check", "--output", "json"}
		for _, n := range names {
			args = append(args, "--name", n)
		}
		r := runCmd(t, nil, args...)
		return r, decodeVerify(t, r)
	}
	count := func(d verifyDoc, id string) (n int, msgs []string) {
		for _, f := range d.Reports[0].Findings {
			if f.ID == id {
				n++
				msgs = append(msgs, f.Message)
				if f.Windows == nil || f.Windows.Name != "CERT_E_CN_NO_MATCH" || f.Windows.HRESULT != "0x800B010F" {
					t.Errorf("%s without CERT_E_CN_NO_MATCH: %+v", id, f.Windows)
				}
			}
		}
		return n, msgs
	}
	if r, d := run("mp.contoso.com", "mp01.corp.contoso.com"); r.code != ExitOK || len(d.ids(0)) != 1 { // revocation_off
		t.Errorf("both names: exit %d %v", r.code, d.ids(0))
	}
	r, d := run("mp.contoso.com", "mp01.corp.contoso.com", "sccm.contoso.com")
	n, msgs := count(d, "chain_name_mismatch")
	if r.code != ExitFindings || n != 1 || !strings.Contains(msgs[0], `"sccm.contoso.com"`) || d.has(0, "e_mp_fqdn_missing") {
		t.Errorf("third name: exit %d %v %q", r.code, d.ids(0), msgs)
	}
	r, d = run("sccm.contoso.com", "mp.contoso.com", "mp02.corp.contoso.com")
	n, msgs = count(d, "chain_name_mismatch")
	if r.code != ExitFindings || n != 2 || !strings.Contains(msgs[0]+msgs[1], `"mp02.corp.contoso.com"`) || d.has(0, "e_mp_fqdn_missing") {
		t.Errorf("two missing names: exit %d %v %q", r.code, d.ids(0), msgs)
	}
}
