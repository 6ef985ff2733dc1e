package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is the release version; set it with
// -ldflags "-X github.com/cmgpki/cmgpki/cmd.version=v1.2.3". Empty means the
// module version from the build info ("devel" for a source build).
var version = ""

// versionInfo is what "cmgpki version" reports (schema cmgpki/version/v1).
type versionInfo struct {
	Schema     string `json:"schema"`
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`      // vcs.revision
	CommitTime string `json:"commit_time,omitempty"` // vcs.time, RFC 3339
	Modified   bool   `json:"modified,omitempty"`    // built from a work tree with changes
	Go         string `json:"go"`
	Platform   string `json:"platform"` // GOOS/GOARCH
}

// buildVersion reads the version from override (the -ldflags variable),
// else from the build info that the go command embeds.
func buildVersion(bi *debug.BuildInfo, override string) versionInfo {
	v := versionInfo{Schema: "cmgpki/version/v1", Version: override, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	return v
}

func currentVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(bi, version)
}

// String is the one-line form: "v1.2.3 (commit 0123456789ab, 2026-11-30T10:00:00Z, modified) go1.26.8 linux/amd64".
func (v versionInfo) String() string {
	var extra []string
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		extra = append(extra, "commit "+c)
	}
	if v.CommitTime != "" {
		extra = append(extra, v.CommitTime)
	}
	if v.Modified {
		extra = append(extra, "modified")
	}
	s := v.Version
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

func newVersionCmd(f *Factory) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "version",
		Short: "print the version, commit and Go version of this cmgpki",
		Long: `Print the version of this cmgpki: the release version (or "devel" for a
source build), the commit and its time when built from a git checkout
("modified" when the work tree had changes), the Go version and platform.
"cmgpki --version" prints the same line.

` + exitCodesHelp(ExitOK, ExitUsage),
		Example: "  cmgpki version\n  cmgpki --version\n  cmgpki version --output json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := outputFormat(out); err != nil {
				return err
			}
			v := currentVersion()
			if out == "json" {
				return renderJSON(f.IO.Out, v)
			}
			_, err := fmt.Fprintf(f.IO.Out, "cmgpki %s\n", v)
			return err
		},
	}
	addOutputFlag(c, &out)
	return c
}
