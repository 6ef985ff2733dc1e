package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// complete asks cobra's hidden __complete command, as the shell scripts do,
// and returns the candidates and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := runCmd(t, nil, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("__complete %q: exit %d: %s", args, r.code, r.errOut)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletionValues(t *testing.T) {
	noFiles := ":4" // ShellCompDirectiveNoFileComp
	for _, tc := range []struct {
		args      []string
		want      []string
		directive string
	}{
		{[]string{"issue", ""}, []string{"cmg-connection-point", "cmg-server", "mp-https", "ocsp-signer", "pki-client", "wpj-device"}, noFiles}, // no CA profile
		{[]string{"issue", "cmg-"}, []string{"cmg-connection-point", "cmg-server"}, noFiles},
		{[]string{"profiles", "show", "wpj"}, []string{"wpj-ca", "wpj-device"}, noFiles},
		{[]string{"issue", "pki-client", ""}, nil, noFiles}, // one PROFILE only
		{[]string{"lab", "create", "--key-type", ""}, []string{"rsa2048", "rsa3072", "rsa4096", "p256", "p384"}, noFiles},
		{[]string{"ca", "init", "--ca-key-type", "p"}, []string{"p256", "p384"}, noFiles},
		{[]string{"issue", "mp-https", "--key-type", "RSA4"}, []string{"rsa4096"}, noFiles},
		{[]string{"revoke", "--reason", "k"}, []string{"keyCompromise"}, noFiles},
		{[]string{"revoke", "--reason", "c"}, []string{"cACompromise", "certificateHold", "cessationOfOperation"}, noFiles},
		{[]string{"profiles", "list", "--output", ""}, []string{"text", "json"}, noFiles},
		{[]string{"crl", "-o", "j"}, []string{"json"}, noFiles},
		{[]string{"lab", "create", "--pfx-format", ""}, []string{"legacy", "modern"}, noFiles},
		{[]string{"issue", "pki-client", "--lab", ""}, nil, ":16"}, // FilterDirs
		{[]string{"lab", "create", "--out", ""}, nil, ":16"},
		{[]string{"lab", "create", "--spec", ""}, []string{"yaml", "yml"}, ":8"}, // FilterFileExt
		{[]string{"revoke", "--cert", ""}, []string{"crt", "cer", "pem", "der"}, ":8"},
		{[]string{"issue", "pki-client", "--pfx-password-file", ""}, nil, ":0"}, // any file
		{[]string{"issue", "pki-client", "--cn", ""}, nil, noFiles},
		{[]string{"serve", ""}, nil, noFiles},
	} {
		got, directive := complete(t, tc.args...)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") || directive != tc.directive {
			t.Errorf("complete %q = %q %s, want %q %s", tc.args, got, directive, tc.want, tc.directive)
		}
	}
	all, _ := complete(t, "revoke", "--reason", "")
	if len(all) != 9 {
		t.Errorf("reasons: %q", all)
	}
}

func TestCompletionCommand(t *testing.T) {
	help := runCmd(t, nil, "--help")
	if !strings.Contains(help.out, "completion  print a shell completion script") {
		t.Errorf("completion is not listed in --help:\n%s", help.out)
	}
	for shell, want := range map[string]string{
		"bash":       "__start_cmgpki",
		"zsh":        "#compdef cmgpki",
		"fish":       "complete -c cmgpki",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := runCmd(t, nil, "completion", shell)
		if r.code != ExitOK || !strings.Contains(r.out, want) {
			t.Errorf("completion %s: exit %d, script lacks %q", shell, r.code, want)
		}
		if h := runCmd(t, nil, "completion", "--help"); !strings.Contains(h.out, "cmgpki completion "+shell) {
			t.Errorf("completion --help does not say how to install for %s:\n%s", shell, h.out)
		}
	}
}
