package cmd

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/pgtest"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// pgLab makes a lab whose base URL is lb and a fresh database for it on the
// shared test cluster; it returns the lab directory and the store URL
// (without password: PGPASSWORD is set for this test and its processes).
func pgLab(t testing.TB, c *pgtest.Cluster, lb string, extra ...string) (string, string) {
	t.Helper()
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	args := append([]string{"lab", "create", "--out", dir, "--base-url", "http://" + lb}, extra...)
	if len(extra) == 0 {
		args = append(args, "--devices", "0")
	}
	if r := runCmdTB(t, args...); r.code != 0 {
		t.Fatal(r.errOut)
	}
	return dir, c.URL(c.NewDB(t))
}

// startPGServe starts a serve process on addr with the given store.
func startPGServe(t testing.TB, dir, store, addr string, extra ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	a, _ := json.Marshal(append([]string{"serve", "--lab", dir, "--store", store, "--listen", addr}, extra...))
	srv := exec.Command(os.Args[0], "-test.run=^$")
	srv.Env = append(os.Environ(), "CMGPKI_TEST_MAIN_ARGS="+string(a))
	out := &syncBuffer{}
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitUp(t, addr)
	return srv, out
}

// waitUp waits until /healthz at addr answers 200.
func waitUp(t testing.TB, addr string) {
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

// startNginx runs nginx with bench/nginx-two-instances.conf in front of
// the two instances; it skips without nginx, and fails under CI.
func startNginx(t testing.TB, listen, one, two string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("nginx is not installed; .ci/run must install nginx-light")
			}
			t.Skip("nginx not installed (apt-get install nginx-light)")
		}
		bin = "/usr/sbin/nginx"
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "bench", "nginx-two-instances.conf"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers use the test's temporary directory
	}
	conf := strings.NewReplacer("{{PREFIX}}", prefix, "{{LISTEN}}", listen, "{{INSTANCE1}}", one,
		"{{INSTANCE2}}", two, "{{USER}}", user).Replace(string(tmpl))
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", prefix, "-c", path, "-e", filepath.Join(prefix, "error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGQUIT); cmd.Wait() })
	waitUp(t, listen)
}

// ocspStatus asks the responder at addr about a lab certificate directly
// (POST, parsed and signature-checked in Go) and returns ocsp.Good,
// ocsp.Revoked or an error.
func ocspStatus(dir, addr, cert string) (int, error) {
	iss, err := certio.ReadCertificate(filepath.Join(dir, "ca", "issuing-ca.crt"))
	if err != nil {
		return 0, err
	}
	c, err := certio.ReadCertificate(filepath.Join(dir, "certs", cert))
	if err != nil {
		return 0, err
	}
	return ocspStatusOf(iss, c, addr)
}

// ocspStatusOf asks addr about certificate c of issuer iss (only c's
// serial is used).
func ocspStatusOf(iss, c *x509.Certificate, addr string) (int, error) {
	req, _ := ocsp.CreateRequest(c, iss, nil)
	resp, err := http.Post("http://"+addr+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("OCSP: HTTP %d", resp.StatusCode)
	}
	r, err := ocsp.ParseResponse(body, iss)
	if err != nil {
		return 0, err
	}
	return r.Status, nil
}

// crlNumber fetches the issuing CA's CRL from addr and returns its number.
func crlNumber(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/crl/issuing-ca.crl")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return "", err
	}
	return rl.Number.String(), nil
}

type health struct {
	Status     string `json:"status"`
	StoreError string `json:"store_error"`
}

func getHealth(addr string) (health, int, error) {
	var h health
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return h, 0, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, resp.StatusCode, err
}

// TestPostgresTwoServeInstances: two serve processes on one PostgreSQL
// database behind nginx. A revocation made with the CLI is seen through the
// balancer by openssl ocsp, and by each instance directly, within 1 s (the
// instances poll only every 30 s: this is LISTEN/NOTIFY); both serve the
// same CRL number; after SIGKILL of one instance under load every request
// through the balancer is still answered and no revocation is lost.
func TestPostgresTwoServeInstances(t *testing.T) {
	pkitest.OpenSSL(t)
	c := pgtest.Shared(t)
	lb, one, two := freePort(t), freePort(t), freePort(t)
	dir, store := pgLab(t, c, lb)
	s1, out1 := startPGServe(t, dir, store, one, "--poll", "30s")
	_, out2 := startPGServe(t, dir, store, two, "--poll", "30s")
	startNginx(t, lb, one, two)

	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	opensslOCSP := func(cert string) string {
		out, _ := pkitest.Run(t, "ocsp", "-issuer", p("ca/issuing-ca.crt"), "-cert", p("certs/"+cert),
			"-url", "http://"+lb+"/ocsp", "-CAfile", p("ca/root-ca.crt"), "-no_nonce",
			"-attime", pkitest.AtUnix(), "-validity_period", pkitest.OCSPValidityPeriod())
		return out
	}
	if out := opensslOCSP("client01.crt"); !strings.Contains(out, ": good") {
		t.Fatalf("before revoke, through nginx:\n%s", out)
	}

	// Revoke through the CLI, as a separate process on the same database.
	start := time.Now()
	if code, out := runProcess(t, "revoke", "--lab", dir, "--store", store, "--cert", p("certs/client01.crt"), "--reason", "keyCompromise"); code != 0 {
		t.Fatalf("revoke: exit %d\n%s", code, out)
	}
	committed := time.Since(start)
	seen := map[string]time.Duration{}
	for time.Since(start) < committed+2*time.Second && len(seen) < 3 {
		for name, addr := range map[string]string{"instance 1": one, "instance 2": two} {
			if _, ok := seen[name]; !ok {
				if st, err := ocspStatus(dir, addr, "client01.crt"); err == nil && st == ocsp.Revoked {
					seen[name] = time.Since(start)
				}
			}
		}
		if _, ok := seen["openssl through nginx"]; !ok && strings.Contains(opensslOCSP("client01.crt"), ": revoked") {
			seen["openssl through nginx"] = time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("revoke process took %s; revoked seen: %v", committed, seen)
	for _, name := range []string{"instance 1", "instance 2", "openssl through nginx"} {
		d, ok := seen[name]
		if !ok || d-committed > time.Second {
			t.Errorf("%s: revocation not seen within 1 s of the revoke (seen %v after %s)", name, ok, d-committed)
		}
	}
	// Both serve the CRL with the same number, the one that lists it.
	eventually(t, "both instances serve the same CRL", func() error {
		n1, err1 := crlNumber(one)
		n2, err2 := crlNumber(two)
		if err1 != nil || err2 != nil || n1 != n2 {
			return fmt.Errorf("instance 1 CRL %s (%v), instance 2 CRL %s (%v)", n1, err1, n2, err2)
		}
		return nil
	})
	// One instance signs (the advisory lock), the other adopts its CRLs.
	adopted := strings.Count(out1.String(), "(from the store)") + strings.Count(out2.String(), "(from the store)")
	if adopted == 0 {
		t.Errorf("no instance adopted a CRL signed by the other:\n%s\n%s", out1, out2)
	}

	// SIGKILL instance 1 under load through nginx; every request must be
	// answered (nginx retries on the other), and a revocation made after the
	// kill is served too.
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, err := ocspStatus(dir, lb, "client01.crt")
				if err != nil || st != ocsp.Revoked {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d, %v", st, err))
				} else {
					ok.Add(1)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	s1.Process.Signal(syscall.SIGKILL)
	time.Sleep(700 * time.Millisecond)
	m, err := lab.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var late string // a certificate of the issuing CA other than client01
	for _, e := range m.Certificates {
		if e.IssuerName == "issuing-ca" && e.Name != "client01" {
			late = e.Serial
			break
		}
	}
	if code, out := runProcess(t, "revoke", "--lab", dir, "--store", store, "--serial", late, "--reason", "superseded"); code != 0 {
		t.Fatalf("revoke after the kill: exit %d\n%s", code, out)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("under load through nginx: %d answered, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("after SIGKILL of one instance: %d requests failed (first: %v), %d answered", failed.Load(), firstErr.Load(), ok.Load())
	}
	if out := opensslOCSP("client01.crt"); !strings.Contains(out, ": revoked") {
		t.Errorf("after the kill, through nginx, client01 is not revoked:\n%s", out)
	}
	// Nothing lost: the CRL through nginx (now instance 2 alone) lists both
	// revocations, the one before and the one after the kill.
	eventually(t, "the CRL through nginx lists both revocations", func() error {
		resp, err := http.Get("http://" + lb + "/crl/issuing-ca.crl")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		der, _ := io.ReadAll(resp.Body)
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, e := range rl.RevokedCertificateEntries {
			got[crl.SerialHex(e.SerialNumber)] = true
		}
		c1, _ := certio.ReadCertificate(p("certs/client01.crt"))
		if !got[crl.SerialHex(c1.SerialNumber)] || !got[late] {
			return fmt.Errorf("CRL %s lists %v; want client01 and %s", rl.Number, got, late)
		}
		return nil
	})
}

// TestPostgresOutage: stop the database under a running serve: it keeps
// answering OCSP and CRL requests from its cache and reports degraded;
// revoke exits 3 and says the store is unreachable; once the database is
// back the instance recovers by itself and serves a new revocation.
func TestPostgresOutage(t *testing.T) {
	c := pgtest.New(t)
	addr := freePort(t)
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--base-url", "http://"+addr, "--devices", "0"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	store := c.URL("postgres")
	_, out := startPGServe(t, dir, store, addr, "--poll", "200ms")
	eventually(t, "OCSP pre-signed", func() error {
		if !strings.Contains(out.String(), "pre-signed") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "degraded", func() error {
		h, code, err := getHealth(addr)
		if err != nil || code != 200 || h.Status != "degraded" || h.StoreError == "" {
			return fmt.Errorf("healthz %d %+v %v", code, h, err)
		}
		return nil
	})
	if st, err := ocspStatus(dir, addr, "client01.crt"); err != nil || st != ocsp.Good {
		t.Errorf("OCSP during the outage: %d %v", st, err)
	}
	if _, err := crlNumber(addr); err != nil {
		t.Errorf("CRL during the outage: %v", err)
	}
	code, rout := runProcess(t, "revoke", "--lab", dir, "--store", store, "--cert", filepath.Join(dir, "certs", "client01.crt"))
	if code != int(ExitFailure) || !strings.Contains(rout, "unreachable") || strings.Contains(rout, "revoked") && !strings.Contains(rout, "Error:") {
		t.Errorf("revoke during the outage: exit %d (want %d)\n%s", code, ExitFailure, rout)
	}
	t.Logf("revoke during the outage: exit %d: %s", code, strings.TrimSpace(rout))
	if strings.Contains(rout, pgtest.Password) {
		t.Error("the error shows the password")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "recovered", func() error {
		h, code, err := getHealth(addr)
		if err != nil || code != 200 || h.Status != "ok" {
			return fmt.Errorf("healthz %d %+v %v", code, h, err)
		}
		return nil
	})
	eventually(t, "notifications back", func() error {
		if n := strings.Count(out.String(), "listening for changes in the store"); n < 2 || !strings.Contains(out.String(), "lost the store's change notifications") {
			return fmt.Errorf("log:\n%s", out)
		}
		return nil
	})
	if code, rout := runProcess(t, "revoke", "--lab", dir, "--store", store, "--cert", filepath.Join(dir, "certs", "client01.crt")); code != 0 {
		t.Fatalf("revoke after the outage: exit %d\n%s", code, rout)
	}
	eventually(t, "revocation after recovery served", func() error {
		if st, err := ocspStatus(dir, addr, "client01.crt"); err != nil || st != ocsp.Revoked {
			return fmt.Errorf("status %d %v", st, err)
		}
		return nil
	})
}

// TestStoreFlag: --store and $CMGPKI_STORE select the store; bad values and
// a password inside --store are input errors naming the flag.
func TestStoreFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	cert := filepath.Join(dir, "certs", "client01.crt")
	for _, tc := range []struct{ store, want string }{
		{"mysql://x/y", "--store \"mysql://x/y\": want sqlite:PATH, postgres://"},
		{"sqlite:", "want sqlite:PATH"},
		{"postgres://u:secret@127.0.0.1/db", "the URL holds a password"},
	} {
		r := runCmd(t, nil, "revoke", "--lab", dir, "--cert", cert, "--store", tc.store)
		if r.code != ExitUsage || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("--store %s: exit %d\n%s", tc.store, r.code, r.errOut)
		}
		if strings.Contains(r.errOut, "secret") {
			t.Errorf("--store %s: the password is shown", tc.store)
		}
	}
	other := filepath.Join(t.TempDir(), "other.db")
	r := runCmd(t, map[string]string{"CMGPKI_STORE": "sqlite:" + other}, "revoke", "--lab", dir, "--cert", cert, "--hold")
	if r.code != 0 {
		t.Fatalf("CMGPKI_STORE: exit %d %s", r.code, r.errOut)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("CMGPKI_STORE was not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, crl.StoreFile)); err == nil {
		t.Error("the default store was created although CMGPKI_STORE names another")
	}
}
