package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// TestForceNeverDestroysWhatItDidNotMake is the data-loss case of issue 6:
// mkdir p; lab create --out p/mylab; echo x > p/main.go; lab create --out p
// --force. The nested lab's CA key and the unrelated file survive, exit 2.
func TestForceNeverDestroysWhatItDidNotMake(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	mylab := filepath.Join(p, "mylab")
	if r := runCmd(t, nil, "lab", "create", "--out", mylab, "--devices", "0"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	key := filepath.Join(mylab, "ca", "root-ca.key")
	keyBefore, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	mainGo := filepath.Join(p, "main.go")
	os.WriteFile(mainGo, []byte("x\n"), 0o644)

	r := runCmd(t, nil, "lab", "create", "--out", p, "--force", "--devices", "0")
	if r.code != ExitUsage {
		t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.errOut)
	}
	for _, want := range []string{"--out", "holds the CA key", filepath.Join("mylab", "ca")} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	if b, err := os.ReadFile(key); err != nil || !bytes.Equal(b, keyBefore) {
		t.Errorf("the nested lab's CA key did not survive: %v", err)
	}
	if b, err := os.ReadFile(mainGo); err != nil || string(b) != "x\n" {
		t.Errorf("the unrelated file did not survive: %v", err)
	}
	if _, err := lab.ReadManifest(mylab); err != nil {
		t.Errorf("the nested lab's manifest did not survive: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".cmgpki-lab-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

// TestForceRefusals: --force replaces only a lab cmgpki made and holding no
// CA key; each refusal is exit 2, names what was found, and changes nothing.
func TestForceRefusals(t *testing.T) {
	base := t.TempDir()
	// A lab whose CA keys were moved away, then something else added.
	keyless := func(name string) string {
		d := filepath.Join(base, name)
		if r := runCmd(t, nil, "ca", "init", "--out", d); r.code != ExitOK {
			t.Fatalf("ca init: %s", r.errOut)
		}
		keys, _ := filepath.Glob(filepath.Join(d, "ca", "*.key"))
		for _, k := range keys {
			os.Remove(k)
		}
		return d
	}
	nonLab := filepath.Join(base, "nonlab")
	os.Mkdir(nonLab, 0o755)
	os.WriteFile(filepath.Join(nonLab, "keep.txt"), []byte("keep"), 0o644)

	extra := keyless("extra")
	os.WriteFile(filepath.Join(extra, "notes.txt"), []byte("mine"), 0o644)

	// A CA key elsewhere than ca/, named by a nested manifest.
	nested := keyless("nested")
	inner := filepath.Join(nested, "certs", "inner")
	os.MkdirAll(filepath.Join(inner, "keys"), 0o755)
	os.WriteFile(filepath.Join(inner, "manifest.json"), []byte(`{"schema":"cmgpki/lab/v1","cas":[{"name":"root-ca","files":{"key":"keys/root.key"}}]}`), 0o644)
	os.WriteFile(filepath.Join(inner, "keys", "root.key"), []byte("KEY"), 0o600)

	withKeys := filepath.Join(base, "withkeys")
	if r := runCmd(t, nil, "ca", "init", "--out", withKeys); r.code != ExitOK {
		t.Fatalf("ca init: %s", r.errOut)
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, []byte("file"), 0o644)
	link := filepath.Join(base, "link")
	if err := os.Symlink(keyless("target"), link); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, out string
		want      []string
		survives  string
	}{
		{"not a lab", nonLab, []string{"not a cmgpki lab: no manifest.json"}, filepath.Join(nonLab, "keep.txt")},
		{"lab with a file cmgpki did not make", extra, []string{"notes.txt", "did not make"}, filepath.Join(extra, "notes.txt")},
		{"CA key named by a nested manifest", nested, []string{"holds the CA key", filepath.Join("inner", "keys", "root.key")}, filepath.Join(inner, "keys", "root.key")},
		{"lab with CA keys", withKeys, []string{"holds the CA key", filepath.Join("withkeys", "ca") + string(filepath.Separator), "never overwrites a CA key"}, filepath.Join(withKeys, "ca", "root-ca.key")},
		{"a file", file, []string{"is not a directory"}, file},
		{"a symbolic link", link, []string{"symbolic link"}, filepath.Join(link, "manifest.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.survives)
			r := runCmd(t, nil, "lab", "create", "--out", tc.out, "--force", "--devices", "0", "--clients", "0")
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.errOut)
			}
			for _, w := range append([]string{"--out"}, tc.want...) {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
				}
			}
			if after, err := os.ReadFile(tc.survives); err != nil || !bytes.Equal(after, before) {
				t.Errorf("%s did not survive: %v", tc.survives, err)
			}
		})
	}
	left, _ := filepath.Glob(filepath.Join(base, ".cmgpki-lab-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

// TestForceReplacesAKeylessLab: a lab cmgpki made whose CA keys were moved
// away (with its store and CRLs) is what --force replaces.
func TestForceReplacesAKeylessLab(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	if r := runCmd(t, nil, "crl", "--lab", dir); r.code != ExitOK {
		t.Fatalf("crl: %s", r.errOut)
	}
	old, _ := lab.ReadManifest(dir)
	keys, _ := filepath.Glob(filepath.Join(dir, "ca", "*.key"))
	for _, k := range keys {
		os.Remove(k)
	}
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--force", "--devices", "0"); r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	m, err := lab.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.CAs[0].Serial == old.CAs[0].Serial {
		t.Error("the lab was not replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, "ca", "root-ca.key")); err != nil {
		t.Errorf("the new lab has no CA key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "crl")); err == nil {
		t.Error("the old CRLs were kept")
	}
	// The old lab had a store; the new one gets its own on first use, not
	// one written by lab create (fixtures stay plain files).
	if _, err := os.Stat(filepath.Join(dir, "revocation.db")); err == nil {
		t.Error("lab create --force wrote a revocation store into the new lab")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".cmgpki-lab-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

// TestServeThatCannotListenWritesNothing: serve binds before it touches the
// store, so a port in use (exit 3) or a bad --listen (exit 2) writes no
// store, no CRL and uses up no CRL number; without --listen the error is
// reported against the lab's base URL, not a flag the user did not give.
func TestServeThatCannotListenWritesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh")     // no store yet
	withCRL := filepath.Join(base, "withcrl") // store and CRL number 1
	for _, d := range []string{fresh, withCRL} {
		if r := runCmd(t, nil, "ca", "init", "--out", d, "--base-url", "http://"+addr); r.code != ExitOK {
			t.Fatalf("ca init: %s", r.errOut)
		}
	}
	if r := runCmd(t, nil, "crl", "--lab", withCRL); r.code != ExitOK {
		t.Fatalf("crl: %s", r.errOut)
	}
	crlFile := filepath.Join(withCRL, "crl", "issuing-ca.crl")
	crlBefore, _ := os.ReadFile(crlFile)

	for _, tc := range []struct {
		name string
		args []string
		code ExitCode
		want []string
		not  string
	}{
		{"port in use, from the base URL", nil, ExitFailure, []string{"lab base URL http://" + addr, "address already in use"}, "--listen"},
		{"port in use, from --listen", []string{"--listen", addr}, ExitFailure, []string{"--listen " + addr, "address already in use"}, ""},
		{"no port", []string{"--listen", "nonsense"}, ExitUsage, []string{`--listen "nonsense"`, "HOST:PORT"}, ""},
		{"bad port", []string{"--listen", "127.0.0.1:99999"}, ExitUsage, []string{"--listen", `port "99999"`}, ""},
		{"bad host", []string{"--listen", "no_such host:8080"}, ExitUsage, []string{"--listen", "not an IP address or DNS name"}, ""},
	} {
		for _, dir := range []string{fresh, withCRL} {
			t.Run(tc.name+"/"+filepath.Base(dir), func(t *testing.T) {
				r := runCmd(t, nil, append([]string{"serve", "--lab", dir}, tc.args...)...)
				if r.code != tc.code {
					t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.errOut, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
					}
				}
				if tc.not != "" && strings.Contains(r.errOut, tc.not) {
					t.Errorf("stderr blames %s, which was not given:\n%s", tc.not, r.errOut)
				}
			})
		}
	}
	for _, p := range []string{filepath.Join(fresh, "revocation.db"), filepath.Join(fresh, "crl")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a serve that could not listen created %s", p)
		}
	}
	if after, _ := os.ReadFile(crlFile); !bytes.Equal(after, crlBefore) {
		t.Error("a serve that could not listen rewrote the CRL")
	}
	r := runCmd(t, nil, "crl", "--lab", withCRL, "--output", "json")
	var got struct {
		CRLs []struct {
			Issuer string `json:"issuer"`
			Number int64  `json:"number"`
		} `json:"crls"`
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("crl JSON: %v\n%s%s", err, r.out, r.errOut)
	}
	for _, c := range got.CRLs {
		if c.Number != 2 {
			t.Errorf("CRL %s number %d after failed serves, want 2: CRL numbers were used up", c.Issuer, c.Number)
		}
	}
}

// TestRevokeUnknownSerialCreatesNoStore: an unknown serial is an input
// error (exit 2) and the lab has no revocation.db afterwards.
func TestRevokeUnknownSerialCreatesNoStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "ca", "init", "--out", dir); r.code != ExitOK {
		t.Fatalf("ca init: %s", r.errOut)
	}
	m, _ := lab.ReadManifest(dir)
	for _, args := range [][]string{
		{"revoke", "--lab", dir, "--serial", "abcdef"},
		{"unrevoke", "--lab", dir, "--serial", "abcdef"},
		{"revoke", "--lab", dir, "--serial", m.CAs[0].Serial}, // the root: not revocable by its own CRL
		{"revoke", "--lab", dir, "--serial", m.CAs[1].Serial, "--issuer", "wpj-ca"},
	} {
		r := runCmd(t, nil, args...)
		if r.code != ExitUsage || !strings.Contains(r.errOut, "is not a certificate of lab") {
			t.Errorf("%v: exit %d, want 2; stderr:\n%s", args, r.code, r.errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "revocation.db")); err == nil {
			t.Fatalf("%v created revocation.db", args)
		}
	}
	if r := runCmd(t, nil, "revoke", "--lab", dir, "--serial", m.CAs[1].Serial); r.code != ExitOK {
		t.Errorf("revoking the issuing CA: exit %d\n%s", r.code, r.errOut)
	}
}

// TestCRLWhileServeRuns: "cmgpki crl" while serve runs leaves the file on
// disk, GET /crl/NAME.crl and /healthz on the same CRL number within the
// poll interval (serve adopts the CRL the crl command saved in the store),
// and a later revocation keeps them together.
func TestCRLWhileServeRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut},
		Clock: clock.Fixed(pkitest.At), Rand: rand.Reader, Getenv: func(string) string { return "" }}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, f, &serveOptions{lab: dir, listen: "127.0.0.1:0", poll: 100 * time.Millisecond,
			crlValidity: crl.DefaultCRLValidity, ocspValidity: crl.DefaultOCSPValidity}, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, errOut.String())
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	numbers := func() (disk, get, health string) {
		der, _ := os.ReadFile(filepath.Join(dir, "crl", "issuing-ca.crl"))
		if rl, err := x509.ParseRevocationList(der); err == nil {
			disk = rl.Number.String()
		}
		if resp, err := http.Get("http://" + addr + "/crl/issuing-ca.crl"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rl, err := x509.ParseRevocationList(body); err == nil {
				get = rl.Number.String()
			}
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			var h struct {
				CRLs map[string]struct {
					Number string `json:"number"`
				} `json:"crls"`
			}
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			health = h.CRLs["issuing-ca"].Number
		}
		return
	}
	agree := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			disk, get, health := numbers()
			if disk == want && get == want && health == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: disk %q, GET %q, /healthz %q; want all %q", what, disk, get, health, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	agree("after start", "1")
	r := runCmd(t, nil, "crl", "--lab", dir)
	if r.code != ExitOK {
		t.Fatalf("crl: %s", r.errOut)
	}
	agree("after cmgpki crl", "2")
	m, _ := lab.ReadManifest(dir)
	e, _ := m.Find("client01")
	if r := runCmd(t, nil, "revoke", "--lab", dir, "--serial", e.Serial); r.code != ExitOK {
		t.Fatalf("revoke: %s", r.errOut)
	}
	agree("after a revocation", "3")
}

// TestForceOverASymlinkWithTrailingSlash: "link/" names the link, not the
// directory it points at.
func TestForceOverASymlinkWithTrailingSlash(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "target")
	if r := runCmd(t, nil, "ca", "init", "--out", target); r.code != ExitOK {
		t.Fatalf("ca init: %s", r.errOut)
	}
	keys, _ := filepath.Glob(filepath.Join(target, "ca", "*.key"))
	for _, k := range keys {
		os.Remove(k)
	}
	link := filepath.Join(base, "link")
	os.Symlink(target, link)
	r := runCmd(t, nil, "ca", "init", "--out", link+string(filepath.Separator), "--force")
	if r.code != ExitUsage || !strings.Contains(r.errOut, "symbolic link") {
		t.Errorf("exit %d, want 2 naming the symbolic link:\n%s", r.code, r.errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
}
