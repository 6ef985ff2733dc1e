package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestNewIssueCmd checks flag parsing through the runF seam, without running.
func TestNewIssueCmd(t *testing.T) {
	var got *issueOptions
	f := &Factory{IO: IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
	c := newIssueCmd(f, func(o *issueOptions) error { got = o; return nil })
	c.SetArgs([]string{"mp-https", "--lab", "L", "--name", "dp01", "--cn", "dp01.contoso.com",
		"--san", "a.contoso.com", "--san", "b.contoso.com,c.contoso.com", "--validity", "720h", "--key-type", "rsa4096", "-o", "json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.profile != "mp-https" || got.lab != "L" || got.name != "dp01" || got.validity != 720*time.Hour ||
		got.keyType != "rsa4096" || got.output != "json" || strings.Join(got.sans, " ") != "a.contoso.com b.contoso.com c.contoso.com" {
		t.Errorf("parsed options %+v", got)
	}
	c = newIssueCmd(f, func(*issueOptions) error { t.Error("runF called with a missing argument"); return nil })
	c.SetArgs([]string{"--lab", "L"})
	if err := c.Execute(); err == nil || exitCodeFor(err) != ExitUsage {
		t.Errorf("missing PROFILE: %v", err)
	}
}
