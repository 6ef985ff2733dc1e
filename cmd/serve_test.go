package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// cmgpkiProcess starts cmgpki args as a separate process.
func cmgpkiProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CMGPKI_TEST_MAIN_ARGS="+string(a))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// runProcess runs cmgpki args as a process to completion.
func runProcess(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd, out := cmgpkiProcess(t, args...)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server on %s did not become healthy", addr)
}

// eventually retries f until it returns nil or 10 s pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// TestServeWithOpenSSL runs serve and revoke as separate processes and checks
// with openssl as the client: OCSP over POST and GET reports good, then
// revoked after the revoke; verify -crl_check with the CRL downloaded from
// the CDP passes, then fails.
// Both HTTP engines are tested; fasthttp is the default.
func TestServeWithOpenSSL(t *testing.T) {
	pkitest.OpenSSL(t)
	for _, engine := range []string{"", "net/http"} {
		name := engine
		if name == "" {
			name = "default"
		}
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) { testServeWithOpenSSL(t, engine) })
	}
}

func testServeWithOpenSSL(t *testing.T, engine string) {
	addr := freePort(t)
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--base-url", "http://"+addr, "--devices", "0"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	args := []string{"serve", "--lab", dir, "--poll", "200ms"}
	want := "fasthttp"
	if engine != "" {
		args, want = append(args, "--engine", engine), engine
	}
	srv, srvOut := cmgpkiProcess(t, args...)
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitHealthy(t, addr)
	if out := srvOut.String(); !strings.Contains(out, "with "+want+" (") {
		t.Errorf("serve does not say it serves with %s:\n%s", want, out)
	}

	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	work := t.TempDir()
	// serve runs at the pinned time (see TestMain), so openssl checks at it:
	// -attime for chains and CRLs; openssl ocsp checks a response's times
	// against the real clock only, so -validity_period stretches that check
	// and ocspGet asserts the times against pkitest.At in Go.
	ocspAt := []string{"-attime", pkitest.AtUnix(), "-validity_period", pkitest.OCSPValidityPeriod()}
	ocspPost := func() string {
		out, _ := pkitest.Run(t, append([]string{"ocsp", "-issuer", p("ca/issuing-ca.crt"), "-cert", p("certs/client01.crt"),
			"-url", "http://" + addr + "/ocsp", "-CAfile", p("ca/root-ca.crt"), "-no_nonce"}, ocspAt...)...)
		return out
	}
	ocspGet := func() string {
		req := filepath.Join(work, "req.der")
		pkitest.MustRun(t, "ocsp", "-issuer", p("ca/issuing-ca.crt"), "-cert", p("certs/client01.crt"), "-no_nonce", "-reqout", req)
		der, _ := os.ReadFile(req)
		resp, err := http.Get("http://" + addr + "/ocsp/" + base64.StdEncoding.EncodeToString(der))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if or, err := ocsp.ParseResponse(body, nil); err != nil {
			t.Errorf("OCSP GET response: %v", err)
		} else if !or.ThisUpdate.Equal(pkitest.At.Truncate(time.Minute)) || !or.NextUpdate.After(pkitest.At) {
			t.Errorf("OCSP GET response thisUpdate %s nextUpdate %s, want current at %s", or.ThisUpdate, or.NextUpdate, pkitest.At)
		}
		respFile := filepath.Join(work, "resp.der")
		os.WriteFile(respFile, body, 0o644)
		out, _ := pkitest.Run(t, append([]string{"ocsp", "-respin", respFile, "-issuer", p("ca/issuing-ca.crt"), "-cert", p("certs/client01.crt"),
			"-CAfile", p("ca/root-ca.crt"), "-no_nonce"}, ocspAt...)...)
		return out
	}
	verify := func(leaf string) (string, error) {
		return pkitest.Run(t, "verify", "-attime", pkitest.AtUnix(), "-crl_check", "-crl_download", "-CAfile", p("ca/root-ca.crt"),
			"-untrusted", p("ca/issuing-ca.crt"), p("certs/"+leaf+".crt"))
	}
	for name, out := range map[string]string{"POST": ocspPost(), "GET": ocspGet()} {
		if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, "client01.crt: good") {
			t.Fatalf("OCSP %s before revoke:\n%s", name, out)
		}
	}
	if out, err := verify("client01"); err != nil {
		t.Fatalf("verify -crl_check -crl_download before revoke: %v\n%s", err, out)
	}

	code, out := runProcess(t, "revoke", "--lab", dir, "--cert", p("certs/client01.crt"), "--reason", "keyCompromise")
	if code != 0 || !strings.Contains(out, "keyCompromise") {
		t.Fatalf("revoke: exit %d\n%s", code, out)
	}
	eventually(t, "OCSP POST shows revoked", func() error {
		if out := ocspPost(); !strings.Contains(out, "client01.crt: revoked") || !strings.Contains(out, "Reason: keyCompromise") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	if out := ocspGet(); !strings.Contains(out, "client01.crt: revoked") {
		t.Errorf("OCSP GET after revoke:\n%s", out)
	}
	eventually(t, "verify -crl_check fails for the revoked leaf", func() error {
		if out, err := verify("client01"); err == nil || !strings.Contains(out, "certificate revoked") {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	})
	if out, err := verify("mp-https"); err != nil {
		t.Errorf("good leaf after the revoke: %v\n%s", err, out)
	}
	// Graceful shutdown on SIGTERM, with the access log flushed.
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	log := srvOut.String()
	for _, want := range []string{`"POST /ocsp" 200`, `"GET /crl/issuing-ca.crl" 200`, "Note: server stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("serve output lacks %q:\n%s", want, log)
		}
	}
}

// TestKillDuringLoadLosesNoRevocation: revocations made by other processes
// while serve is under load and is killed (SIGKILL) midway all survive, and
// the restarted server publishes every one of them.
func TestKillDuringLoadLosesNoRevocation(t *testing.T) {
	addr := freePort(t)
	dir := filepath.Join(t.TempDir(), "lab")
	const n = 12
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--base-url", "http://"+addr, "--clients", fmt.Sprint(n), "--devices", "0"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	m, _ := lab.ReadManifest(dir)
	start := func() *exec.Cmd {
		srv, _ := cmgpkiProcess(t, "serve", "--lab", dir, "--poll", "200ms")
		waitHealthy(t, addr)
		return srv
	}
	srv := start()

	// Load: OCSP and CRL requests from 8 goroutines until told to stop.
	ctx, stop := context.WithCancel(context.Background())
	var requests atomic.Int64
	var wg sync.WaitGroup
	crlURL := "http://" + addr + "/crl/issuing-ca.crl"
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if resp, err := http.Get(crlURL); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					requests.Add(1)
				} else {
					time.Sleep(20 * time.Millisecond) // server down: retry
				}
			}
		}()
	}
	var serials []string
	for i, e := range m.Certificates {
		if e.Role != "pki-client" {
			continue
		}
		if i == n/2 {
			srv.Process.Kill() // SIGKILL in the middle of load and revocations
			srv.Wait()
		}
		code, out := runProcess(t, "revoke", "--lab", dir, "--serial", e.Serial, "--reason", "superseded")
		if code != 0 {
			t.Fatalf("revoke %s: exit %d\n%s", e.Name, code, out)
		}
		serials = append(serials, e.Serial)
	}
	srv = start()
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	eventually(t, "all revocations in the served CRL", func() error {
		resp, err := http.Get(crlURL)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		der, _ := io.ReadAll(resp.Body)
		rl, err := parseCRL(der)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			have[fmt.Sprintf("%x", e.SerialNumber)] = true
		}
		for _, s := range serials {
			if !have[s] {
				return fmt.Errorf("serial %s missing from CRL %v (%d entries)", s, rl.Number, len(have))
			}
		}
		return nil
	})
	stop()
	wg.Wait()
	if requests.Load() < 50 {
		t.Errorf("only %d requests of load were served", requests.Load())
	}
	code, out := runProcess(t, "revoke", "--lab", dir, "--serial", serials[0])
	if code != 0 || !strings.Contains(out, "already revoked") {
		t.Errorf("second revoke: exit %d\n%s", code, out)
	}
}
