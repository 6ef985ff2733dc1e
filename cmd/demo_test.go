package cmd

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/handshake"
)

// demoDoc is the part of the cmgpki/demo/v1 document the tests read.
type demoDoc struct {
	Schema           string `json:"schema"`
	Lab              string `json:"lab"`
	Created          bool   `json:"created"`
	BaseURL          string `json:"base_url"`
	RevocationServer string `json:"revocation_server"`
	At               string `json:"at"`
	Preflight        struct {
		Schema  string `json:"schema"`
		Reports []struct {
			Input struct {
				File       string `json:"file"`
				KeyMatches *bool  `json:"key_matches"`
			} `json:"input"`
			Profile struct {
				Name string `json:"name"`
				How  string `json:"how"`
			} `json:"profile"`
			Chain struct {
				Trusted  bool `json:"trusted"`
				Elements []struct {
					Revocation *struct {
						Status string `json:"status"`
						Source string `json:"source"`
					} `json:"revocation"`
				} `json:"elements"`
			} `json:"chain"`
			MaxLevel string `json:"max_level"`
		} `json:"reports"`
		Summary struct {
			Failed bool `json:"failed"`
		} `json:"summary"`
	} `json:"preflight"`
	Handshake struct {
		Schema    string `json:"schema"`
		Scenarios []struct {
			Name     string            `json:"name"`
			Expected string            `json:"expected"`
			Got      string            `json:"got"`
			Steps    []json.RawMessage `json:"steps"`
		} `json:"scenarios"`
	} `json:"handshake"`
	Passed bool     `json:"passed"`
	Next   []string `json:"next"`
}

// TestDemo: a fresh demo makes the lab with a base URL on a free loopback
// port, serves it for the run (the preflight's revocation is online and
// good), preflights every certificate of the lab as its role and runs all
// scenarios, exit 0, and closes its listener; a second run reuses the lab
// unchanged (JSON shape); a revoked certificate makes the preflight fail,
// exit 1.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a lab and runs the handshake matrix")
	}
	dir := filepath.Join(t.TempDir(), "cmg-demo")
	before := ourGoroutines()

	r := runCmd(t, nil, "demo", "--out", dir)
	if r.code != ExitOK {
		t.Fatalf("fresh demo: exit %d:\n%s\n%s", r.code, r.out, r.errOut)
	}
	m := readManifest(t, dir)
	u, err := url.Parse(m.BaseURL)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "8080" {
		t.Fatalf("base URL %q: want http://127.0.0.1:PORT on a free port", m.BaseURL)
	}
	if len(m.Certificates) != 5 {
		t.Fatalf("the default lab has %d certificates, want 5", len(m.Certificates))
	}
	for _, e := range m.Certificates {
		row := "| " + e.Files.Cert + " "
		if !strings.Contains(r.out, row) {
			t.Errorf("preflight lacks a row for %s (%s):\n%s", e.Name, row, r.out)
		}
	}
	for _, n := range handshake.Names() {
		if !strings.Contains(r.out, "| "+n+" ") {
			t.Errorf("matrix lacks scenario %s", n)
		}
	}
	for _, want := range []string{"CERTIFICATE", "REVOCATION", "| cmg-server ", "good (ocsp)", "SCENARIO", "AS EXPECTED"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "| NO (expected") {
		t.Errorf("a scenario is not as expected:\n%s", r.out)
	}
	for _, want := range []string{"Making lab " + dir, "Serving the lab's CRLs", "Preflight: checking 5 certificates", "Handshake: running 17 scenarios",
		"Preflight: 5 certificates, 0 errors", "Handshake: 17 scenarios, 17 as expected, 0 not", "Next:",
		"cmgpki handshake --lab " + dir + " --scenario crl-unreachable", "cmgpki serve --lab " + dir, "cmgpki verify cert " + filepath.Join(dir, "certs", "cmg-server.pfx")} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	if strings.Contains(r.errOut, "Warning:") || strings.Contains(r.out, "Next:") {
		t.Errorf("a Warning, or notes on stdout:\n%s\n%s", r.out, r.errOut)
	}
	// The server is stopped: its port refuses connections, and no
	// goroutine of the run is left.
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the demo", u.Host)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ourGoroutines() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := ourGoroutines(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before the demo, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}

	t.Run("second run reuses the lab, json", func(t *testing.T) {
		r := runCmd(t, nil, "demo", "--out", dir, "--output", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d:\n%s", r.code, r.errOut)
		}
		var d demoDoc
		if err := json.Unmarshal([]byte(r.out), &d); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.out)
		}
		if d.Schema != DemoSchema || d.Lab != dir || d.Created || d.BaseURL != m.BaseURL || d.RevocationServer != m.BaseURL || !d.Passed || len(d.Next) == 0 {
			t.Errorf("document: schema %q lab %q created %v base %q server %q passed %v next %d", d.Schema, d.Lab, d.Created, d.BaseURL, d.RevocationServer, d.Passed, len(d.Next))
		}
		if d.Preflight.Schema != "cmgpki/verify/v1" || len(d.Preflight.Reports) != len(m.Certificates) || d.Preflight.Summary.Failed {
			t.Fatalf("preflight: schema %q, %d reports, failed %v", d.Preflight.Schema, len(d.Preflight.Reports), d.Preflight.Summary.Failed)
		}
		for i, rep := range d.Preflight.Reports {
			e := m.Certificates[i]
			if rep.Profile.Name != e.Role || rep.Profile.How != "given" || !rep.Chain.Trusted || rep.Input.KeyMatches == nil || !*rep.Input.KeyMatches {
				t.Errorf("%s: profile %s (%s), trusted %v, key matches %v", e.Name, rep.Profile.Name, rep.Profile.How, rep.Chain.Trusted, rep.Input.KeyMatches)
			}
			if e.Role == "wpj-device" {
				continue // no revocation pointers, as real WPJ certificates
			}
			if rv := rep.Chain.Elements[0].Revocation; rv == nil || rv.Status != "good" || rv.Source == "" {
				t.Errorf("%s: leaf revocation %+v, want good, checked online", e.Name, rv)
			}
		}
		if d.Handshake.Schema != handshake.Schema || len(d.Handshake.Scenarios) != len(handshake.Names()) {
			t.Fatalf("handshake: schema %q, %d scenarios", d.Handshake.Schema, len(d.Handshake.Scenarios))
		}
		for i, s := range d.Handshake.Scenarios {
			if s.Name != handshake.Names()[i] || s.Expected != s.Got || len(s.Steps) == 0 {
				t.Errorf("scenario %d: %s expected %s got %s, %d steps", i, s.Name, s.Expected, s.Got, len(s.Steps))
			}
		}
		if !strings.Contains(r.errOut, "Reusing lab "+dir) || strings.Contains(r.errOut, "Making lab") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		if m2 := readManifest(t, dir); m2.Certificates[0].Serial != m.Certificates[0].Serial {
			t.Error("the second run replaced the lab's certificates")
		}
	})

	t.Run("base URL port in use", func(t *testing.T) {
		// Something else holds the port (it accepts, never answers): the
		// run serves on another port and the preflight still reaches it.
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		r := runCmd(t, nil, "demo", "--out", dir, "--output", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d:\n%s", r.code, r.errOut)
		}
		var d demoDoc
		if err := json.Unmarshal([]byte(r.out), &d); err != nil {
			t.Fatal(err)
		}
		if d.RevocationServer == m.BaseURL || !strings.HasPrefix(d.RevocationServer, "http://127.0.0.1:") {
			t.Errorf("revocation server %q, want another loopback port than %s", d.RevocationServer, m.BaseURL)
		}
		if rv := d.Preflight.Reports[0].Chain.Elements[0].Revocation; rv == nil || rv.Status != "good" {
			t.Errorf("cmg-server revocation %+v, want good through the server that took the base URL's place", rv)
		}
		if !strings.Contains(r.errOut, "Note: the lab's base URL "+m.BaseURL+" cannot be served here (its port is in use") {
			t.Errorf("no Note on the port:\n%s", r.errOut)
		}
	})

	t.Run("revoked certificate fails the preflight", func(t *testing.T) {
		mustRun(t, nil, "revoke", "--lab", dir, "--cert", filepath.Join(dir, "certs", "mp-https.crt"), "--hold")
		r := runCmd(t, nil, "demo", "--out", dir)
		if r.code != ExitFindings {
			t.Fatalf("exit %d, want 1:\n%s", r.code, r.errOut)
		}
		if !strings.Contains(r.out, "revoked") || !strings.Contains(r.errOut, "Error: demo: the preflight found 1 error") {
			t.Errorf("out:\n%s\nerr:\n%s", r.out, r.errOut)
		}
	})
}

// TestDemoBadInput: --out that is neither absent, empty nor a lab, or a
// bad flag, is exit 2 and writes nothing.
func TestDemoBadInput(t *testing.T) {
	base := t.TempDir()
	notLab := filepath.Join(base, "notes")
	if err := os.Mkdir(notLab, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notLab, "keep.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"non-lab directory", []string{"demo", "--out", notLab}, "--out " + notLab + ": the directory is not empty and is not a cmgpki lab"},
		{"a file", []string{"demo", "--out", file}, "--out " + file + ": not a directory"},
		{"bad output", []string{"demo", "--out", filepath.Join(base, "new"), "--output", "yaml"}, `--output: unknown format "yaml"`},
		{"argument", []string{"demo", "extra"}, "takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, nil, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.errOut, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", r.code, tc.want, r.errOut)
			}
			if r.out != "" {
				t.Errorf("stdout: %s", r.out)
			}
		})
	}
	ents, _ := os.ReadDir(notLab)
	if len(ents) != 1 {
		t.Errorf("%s has %d entries after the refusal, want its 1", notLab, len(ents))
	}
	if _, err := os.Stat(filepath.Join(base, "new")); err == nil {
		t.Error("a refused run made its --out")
	}
}

// ourGoroutines counts the goroutines of this process except fasthttp's
// Date ticker: one per process, started by the first response a fasthttp
// server writes and never stopped, by that library's design.
func ourGoroutines() int {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	return runtime.NumGoroutine() - strings.Count(stacks, "fasthttp.updateServerDate.func1(")
}
