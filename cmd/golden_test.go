package cmd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite cmd/testdata/*.golden from the current output")

// TestGolden compares deterministic command output with cmd/testdata/<case>.golden;
// `go test ./cmd -run Golden -update` rewrites them (review the diff like code).
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"profiles_list", []string{"profiles", "list"}},
		{"profiles_list_json", []string{"profiles", "list", "--output", "json"}},
		{"profiles_show_cmg_server", []string{"profiles", "show", "cmg-server"}},
		{"profiles_show_wpj_device_json", []string{"profiles", "show", "wpj-device", "--output", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.errOut)
			}
			got := trimLines(r.out)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd -run Golden -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after review):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// trimLines drops trailing spaces, which table renderers leave.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
