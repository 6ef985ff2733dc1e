package handshake

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	// Tests build their lab through ca (as internal/labtest does); the
	// package itself never imports ca.
	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lint"
)

var (
	testLab string
	testMat *Materials
	// start is the simulated start: an hour after the lab was made.
	simStart = pkitest.At.Add(time.Hour)
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "handshake-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testLab = filepath.Join(dir, "lab")
	if _, err := ca.CreateLab(context.Background(), &ca.LabSpec{}, ca.LabOptions{Out: testLab, Clock: clock.Fixed(pkitest.At)}); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
	if testMat, err = Load(testLab, nil); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t testing.TB, name string, o Options) *Flow {
	t.Helper()
	if o.At.IsZero() {
		o.At = simStart
	}
	f, err := Run(context.Background(), testMat, name, o)
	if err != nil {
		t.Fatalf("Run(%s): %v", name, err)
	}
	return f
}

func dump(t *testing.T, f *Flow) {
	t.Helper()
	for _, s := range f.Steps {
		t.Logf("%-18s %-16s %-4s %s | %v", s.ID, s.Component, s.Status, s.Detail, s.Windows)
		for _, ev := range s.Evidence {
			t.Logf("      %s", ev)
		}
	}
}

func TestHandshakeHappyPath(t *testing.T) {
	f := run(t, Happy, Options{})
	if f.Schema != Schema || f.Result != Pass || f.FailingStep != "" {
		dump(t, f)
		t.Fatalf("got result %s failing %q, want pass", f.Result, f.FailingStep)
	}
	want := []string{StepCMGTLS, StepAADInfo, StepAuth, StepCCMToken, StepLocation, StepRegister, StepRenewal, StepSecSettings}
	if len(f.Steps) != len(want) {
		t.Fatalf("got %d steps, want %d", len(f.Steps), len(want))
	}
	for i, id := range want {
		s := f.Steps[i]
		if s.ID != id || s.Status != Pass {
			dump(t, f)
			t.Fatalf("step %d = %s %s, want %s pass", i, s.ID, s.Status, id)
		}
	}
	if a := f.Step(StepAuth); !strings.HasPrefix(a.Detail, "device token from Entra") || a.Component != CompEntra {
		t.Errorf("auth step = %q, want the device token", a.Detail)
	}
	if r := f.Step(StepRenewal); !strings.Contains(r.Detail, "renewed until") {
		t.Errorf("renewal step = %q", r.Detail)
	}
	if l := f.Step(StepRegister); !strings.Contains(l.Detail, "approval status 3") {
		t.Errorf("registration step = %q, want approval status 3", l.Detail)
	}
	for _, s := range f.Steps {
		if len(s.Evidence) == 0 {
			t.Errorf("step %s has no evidence", s.ID)
		}
	}
	if s := f.Step(StepCCMToken); !containsLine(s.Evidence, "SMS_CLOUD_PROXYCONNECTOR.log: Switched to internal URL. Replaced 'https://cmg.contoso.com/CCM_Proxy_MutualAuth/") ||
		!containsLine(s.Evidence, "CCM_STS.log: Validated AAD token. TokenType: Device") {
		dump(t, f)
		t.Errorf("ccm-token evidence lacks the connection point rewrite or the CCM_STS validation")
	}
}

func containsLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// scenarioHTTP holds, for the scenarios refused over HTTP, the refusal and
// a log line the failing step must carry as evidence.
var scenarioHTTP = map[string][2]string{
	"entra-token-expired":       {"HTTP 401 " + errInvalidToken, "CCM_STS.log: Failed to validate AAD token. lifetime validation failed: IDX10223: Lifetime validation failed. The token is expired."},
	"cp-cert-untrusted-by-mp":   {"HTTP 403 " + errClientCertRequired, "SMS_CLOUD_PROXYCONNECTOR.log: MessageID: "},
	"intermediate-not-uploaded": {"HTTP 403 CMGService_ClientCertificateNotTrusted", "CMGService.log: Client certificate validation failed for 'CN=client01.contoso.com'"},
	"pki-client-revoked":        {"HTTP 403 CMGService_ClientCertificateNotTrusted", "CMGService.log: Client certificate validation failed for 'CN=client01.contoso.com': verify: revoked"},
	"tenant-not-onboarded":      {"HTTP 404", "ccmsetup.log: Failed to get AAD info from CMG: HTTP 404"},
}

// TestHandshakeScenarios runs every scenario and asserts its outcome, its
// failing step and its Windows error.
func TestHandshakeScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			f := run(t, sc.Name, Options{})
			if f.Result != sc.Expected || f.FailingStep != sc.FailingStep || f.Code != sc.Code {
				dump(t, f)
				t.Fatalf("got %s at %q code %v, want %s at %q code %v", f.Result, f.FailingStep, f.Code, sc.Expected, sc.FailingStep, sc.Code)
			}
			if len(f.Steps) != 8 {
				t.Errorf("got %d steps, want all 8 (unreached ones skipped)", len(f.Steps))
			}
			if s := f.Step(f.FailingStep); s != nil && s.Fix == "" {
				t.Errorf("failing step %s has no fix", s.ID)
			}
			if want, ok := scenarioHTTP[sc.Name]; ok {
				if s := f.Step(f.FailingStep); s == nil || s.HTTP != want[0] || !containsLine(s.Evidence, want[1]) {
					dump(t, f)
					t.Errorf("want refusal %q and evidence %q", want[0], want[1])
				}
			}
		})
	}
}

// TestHandshakeCMGWithOpenSSL drives the simulated CMG with openssl
// s_client and curl: it presents the cmg-server chain, which verifies
// against the lab root at the simulated time, and answers AADAuthInfo.
func TestHandshakeCMGWithOpenSSL(t *testing.T) {
	e, err := start(context.Background(), testMat, defaultWorld(testMat), simStart)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	root := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testMat.EnterpriseRoot.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := e.net.addrs[testMat.CMGName+":443"]
	// openssl judges the chain at the simulated time (stdin is empty: it
	// closes after the handshake).
	out := pkitest.MustRun(t, "s_client", "-connect", addr, "-servername", testMat.CMGName, "-CAfile", root, "-verify_return_error",
		"-attime", pkitest.AtUnixPlus(time.Hour), "-showcerts")
	for _, want := range []string{"s:CN = cmg.contoso.com", "s:CN = contoso.com Lab Issuing CA", "Verify return code: 0 (ok)"} {
		if !strings.Contains(out, want) {
			t.Errorf("s_client output lacks %q:\n%s", want, out)
		}
	}
	// curl asks AADAuthInfo by the CMG's real name. -k: curl would check
	// validity at the real clock; the chain was judged above.
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	_, port, _ := net.SplitHostPort(addr)
	body, err := exec.Command(curl, "-sS", "-k", "--resolve", testMat.CMGName+":"+port+":127.0.0.1",
		"https://"+testMat.CMGName+":"+port+"/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID="+TenantID).CombinedOutput()
	if err != nil || !strings.Contains(string(body), `"ClientAppId":"`+ClientAppID+`"`) || !strings.Contains(string(body), ResourceURI) {
		t.Errorf("curl AADAuthInfo: %v\n%s", err, body)
	}
}

// TestHandshakeNoLeaks runs passing and failing scenarios and a start that
// fails, then checks that every goroutine ended and the listeners are closed.
func TestHandshakeNoLeaks(t *testing.T) {
	run(t, Happy, Options{}) // warm up lazily started runtime goroutines
	before := runtime.NumGoroutine()
	var addrs []string
	for _, n := range []string{Happy, "crl-unreachable", "cp-cert-untrusted-by-mp", "intermediate-not-uploaded"} {
		run(t, n, Options{})
	}
	e, err := start(context.Background(), testMat, defaultWorld(testMat), simStart)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range e.net.addrs {
		addrs = append(addrs, a)
	}
	e.close()
	w := defaultWorld(testMat)
	w.revoked = []*x509.Certificate{testMat.publicRoot} // not in the store: start fails
	if _, err := start(context.Background(), testMat, w, simStart); err == nil {
		t.Fatal("start with an unknown revoked certificate succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("listener %s still accepts connections", a)
		}
	}
}

func BenchmarkHappyPath(b *testing.B) {
	for b.Loop() {
		f := run(b, Happy, Options{})
		if f.Result != Pass {
			b.Fatal(f.FailingStep)
		}
	}
}

func BenchmarkMatrix(b *testing.B) {
	for b.Loop() {
		mx, err := RunMatrix(context.Background(), testMat, nil, Options{At: simStart})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range mx.Scenarios {
			if !s.AsExpected() {
				b.Fatal(s.Name)
			}
		}
	}
}

// TestHandshakeOwnCertificates runs another PKI's CMG certificate (a
// second lab, fabrikam.com) through the flow of the test lab.
func TestHandshakeOwnCertificates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab2")
	if _, err := ca.CreateLab(context.Background(), &ca.LabSpec{Domain: "fabrikam.com", BaseURL: "http://pki.fabrikam.com"}, ca.LabOptions{Out: dir, Clock: clock.Fixed(pkitest.At)}); err != nil {
		t.Fatal(err)
	}
	other, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmg := other.CMG
	m, whose, err := testMat.WithOwn(Own{CMG: &cmg, Roots: []*x509.Certificate{other.EnterpriseRoot}})
	if err != nil {
		t.Fatal(err)
	}
	if whose[0] != (Whose{Role: "cmg-server", Source: "yours", Subject: "CN=cmg.fabrikam.com"}) || whose[1].Source != "lab" {
		t.Errorf("whose = %+v", whose)
	}
	f, err := Run(context.Background(), m, Happy, Options{At: simStart, NoCRLCheck: true, SiteNoCRLCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Result != Pass || !strings.Contains(f.Step(StepCMGTLS).Detail, "cmg.fabrikam.com > fabrikam.com Lab Issuing CA > fabrikam.com Lab Root CA") {
		dump(t, f)
		t.Fatalf("own CMG certificate: %s at %s", f.Result, f.FailingStep)
	}
	// Its revocation URLs are not served here: with checking on, offline.
	f, _ = Run(context.Background(), m, Happy, Options{At: simStart})
	if f.FailingStep != StepCMGTLS || f.Code != lint.RevocationOffline {
		t.Errorf("with CRL checking: %s at %s %v, want cmg-tls offline", f.Result, f.FailingStep, f.Code)
	}
	// Your connection point certificate: its revocation URLs are not
	// served, so the MP's revocation check of it is left out, and a note
	// says so.
	cp := other.CP
	m3, _, err := testMat.WithOwn(Own{CP: &cp, Roots: []*x509.Certificate{other.EnterpriseRoot}})
	if err != nil {
		t.Fatal(err)
	}
	f, _ = Run(context.Background(), m3, Happy, Options{At: simStart})
	if f.Result != Pass || !strings.Contains(strings.Join(f.Notes, "\n"), "yours is not checked here") {
		dump(t, f)
		t.Errorf("own connection point certificate: %s at %s, notes %q", f.Result, f.FailingStep, f.Notes)
	}
	// Without its root, which is not reachable through AIA either (its
	// pki.fabrikam.com is not on this network), the chain is incomplete.
	m2, _, _ := testMat.WithOwn(Own{CMG: &cmg})
	f, _ = Run(context.Background(), m2, Happy, Options{At: simStart, NoCRLCheck: true})
	if f.FailingStep != StepCMGTLS || f.Code != lint.Chaining {
		t.Errorf("without the root: %s at %s %v, want cmg-tls CERT_E_CHAINING", f.Result, f.FailingStep, f.Code)
	}
}

// TestHandshakeInvalidTokenStopsAtCMG: the CMG refuses an expired CCM
// token itself; the connection point and the MP never see the request.
func TestHandshakeInvalidTokenStopsAtCMG(t *testing.T) {
	f := run(t, "ccm-token-expired", Options{})
	ev := f.Step(StepRenewal).Evidence
	refused := -1
	for i, l := range ev {
		if strings.HasPrefix(l, "CMGService.log: Token validation failed: lifetime validation failed: IDX10223") {
			refused = i
			break
		}
	}
	if refused < 1 {
		dump(t, f)
		t.Fatal("no CMG token refusal in the renewal evidence")
	}
	for i := refused - 1; i >= 0 && !strings.HasPrefix(ev[i], "CcmMessaging.log: ccmhttp:"); i-- {
		if strings.HasPrefix(ev[i], logCP) || strings.HasPrefix(ev[i], logSTS) {
			t.Errorf("the refused request reached an internal role: %s", ev[i])
		}
	}
	if !strings.Contains(f.Step(StepRenewal).Detail, "the CMG refused the expired token (HTTP 401 "+errInvalidToken+")") {
		t.Errorf("renewal detail: %s", f.Step(StepRenewal).Detail)
	}
}

// TestHandshakeConnectionPointSelection: the connection point filters its
// store as the real one does: digital signature, allowed root, private
// key, client authentication EKU.
func TestHandshakeConnectionPointSelection(t *testing.T) {
	e := &env{m: testMat, w: defaultWorld(testMat), clk: clock.NewFake(simStart)}
	e.w.cpRoots = []*x509.Certificate{testMat.EnterpriseRoot}
	e.w.cpStore = []cpCandidate{
		{cert: *testMat.Device, hasKey: true}, // not under an allowed root
		{cert: testMat.CMG, hasKey: false},    // no private key
		{cert: testMat.MP, hasKey: true},      // no client authentication EKU
		{cert: testMat.CP, hasKey: true},      // chosen
	}
	got, why := e.selectCPCert()
	if got == nil || got.Leaf != testMat.CP.Leaf {
		t.Fatalf("selected %v (%s), want the connection point certificate", got, why)
	}
	e.w.cpStore = e.w.cpStore[:3]
	got, why = e.selectCPCert()
	if got != nil {
		t.Fatalf("selected %s", got.Leaf.Subject)
	}
	for _, want := range []string{"not under an allowed root", "CN=cmg.contoso.com: no private key", "CN=mp.contoso.com: no client authentication EKU"} {
		if !strings.Contains(why, want) {
			t.Errorf("reasons lack %q: %s", want, why)
		}
	}
}

func TestHandshakeProofCommands(t *testing.T) {
	for name, want := range map[string]string{
		Happy:                  "cmgpki verify endpoint https://cmg.contoso.com --roots " + filepath.Join(testLab, "ca"),
		"third-party-cmg-cert": "cmgpki verify endpoint https://cmg.contoso.com --system-roots",
		"name-mismatch":        "cmgpki verify endpoint https://contoso-cmg.cloudapp.net --roots " + filepath.Join(testLab, "ca"),
	} {
		if got := run(t, name, Options{}).Step(StepCMGTLS).Proof; got != want {
			t.Errorf("%s: proof %q, want %q", name, got, want)
		}
	}
}

// runWorld runs the client flow in world w (a variant no scenario names).
func runWorld(t *testing.T, w *world) *Flow {
	t.Helper()
	e, err := start(context.Background(), testMat, w, simStart)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	f := &Flow{Schema: Schema}
	c := &client{e: e, f: f, crlCheck: !w.noCRLCheck}
	c.run(context.Background())
	f.Log = e.logs.all()
	f.Finish()
	return f
}

// TestHandshakeMPChecksConnectionPointRevocation: the MP (IIS) checks the
// revocation of the connection point's client certificate, through the
// intranet: a revoked one is refused with 403
// CMGConnector_Clientcertificaterequired at the CCM token step, and an
// internet-side outage of the CDP does not stop the MP's check.
func TestHandshakeMPChecksConnectionPointRevocation(t *testing.T) {
	w := defaultWorld(testMat)
	w.revoked = []*x509.Certificate{testMat.CP.Leaf}
	f := runWorld(t, w)
	s := f.Step(StepCCMToken)
	if f.FailingStep != StepCCMToken || s.Component != CompMP || s.HTTP != "HTTP 403 "+errClientCertRequired || !strings.Contains(s.Detail, "revoked") {
		dump(t, f)
		t.Fatalf("failing step %q: %+v", f.FailingStep, s)
	}
	if !strings.Contains(s.Fix, "revoked") {
		t.Errorf("fix %q does not address a revoked certificate", s.Fix)
	}
	// The CDP is down for the internet only: with /NoCRLCheck the client
	// gets through, and the MP still reaches the CDP (the flow stops at the
	// security settings refresh, as no-crl-check-bootstrap).
	w = defaultWorld(testMat)
	w.revocationDown, w.noCRLCheck = true, true
	if f := runWorld(t, w); f.FailingStep != StepSecSettings {
		dump(t, f)
		t.Fatalf("CDP down for the internet: failing step %q, want %s", f.FailingStep, StepSecSettings)
	}
}

// TestHandshakeClientSelectionChecksRevocation: with revocation checking
// on, the client's selection leaves out its own revoked PKI certificate
// (step 3, valid now) and the client falls back to the Entra device
// token; with /NoCRLCheck it selects the certificate and the CMG refuses it.
func TestHandshakeClientSelectionChecksRevocation(t *testing.T) {
	w := defaultWorld(testMat)
	w.pkiClient, w.revoked = testMat.Client, []*x509.Certificate{testMat.Client.Leaf}
	f := runWorld(t, w)
	s := f.Step(StepAuth)
	if f.Result != Pass || s.Component != CompEntra || !strings.Contains(s.Detail, "device token") {
		dump(t, f)
		t.Fatalf("revoked PKI certificate, CRL checking on: %s at %q, auth %+v", f.Result, f.FailingStep, s)
	}
	excluded := false
	for _, ev := range s.Evidence {
		if strings.HasPrefix(ev, logCCMSetup+": PKI client certificate "+testMat.Client.Leaf.Subject.CommonName+" not usable") && strings.Contains(ev, "revoked") {
			excluded = true
		}
	}
	if !excluded {
		dump(t, f)
		t.Error("no evidence that the selection left out the revoked certificate")
	}
	w.noCRLCheck = true
	if f := runWorld(t, w); f.FailingStep != StepLocation || f.Step(StepAuth).Component != CompClient {
		dump(t, f)
		t.Fatalf("with /NoCRLCheck: failing step %q, want %s (the CMG refuses it)", f.FailingStep, StepLocation)
	}
}

// TestHandshakeConnectionPointDigitalSignature: the connection point's
// first filter leaves out a certificate without the digital-signature key
// usage, even when it has everything else (allowed root, key, client
// authentication).
func TestHandshakeConnectionPointDigitalSignature(t *testing.T) {
	var iss *x509.Certificate
	var signer crypto.Signer
	for _, x := range testMat.issuers {
		if string(x.Cert.RawSubject) == string(testMat.CP.Leaf.RawIssuer) {
			iss, signer = x.Cert, x.Signer
		}
	}
	if iss == nil {
		t.Fatal("no issuer of the connection point certificate")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "cmgcp-nods.corp.contoso.com"}, DNSNames: []string{"cmgcp-nods.corp.contoso.com"},
		NotBefore: testMat.CP.Leaf.NotBefore, NotAfter: testMat.CP.Leaf.NotAfter, KeyUsage: x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, iss, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	noDS := tls.Certificate{Certificate: append([][]byte{der}, testMat.CP.Certificate[1:]...), PrivateKey: key, Leaf: leaf}
	e := &env{m: testMat, w: defaultWorld(testMat), clk: clock.NewFake(simStart)}
	if !chainsTo(leaf, noDS, e.w.cpRoots, e.clk) || !hasEKU(leaf, x509.ExtKeyUsageClientAuth) {
		t.Fatal("the test certificate should pass every other filter")
	}
	e.w.cpStore = []cpCandidate{{cert: noDS, hasKey: true}, {cert: testMat.CP, hasKey: true}}
	if got, why := e.selectCPCert(); got == nil || got.Leaf != testMat.CP.Leaf {
		subject := "none"
		if got != nil {
			subject = got.Leaf.Subject.String()
		}
		t.Fatalf("selected %s (%s), want the certificate with digital signature", subject, why)
	}
	e.w.cpStore = e.w.cpStore[:1]
	got, why := e.selectCPCert()
	if got != nil || why != "CN=cmgcp-nods.corp.contoso.com: no digital-signature key usage" {
		t.Fatalf("selected %v, reason %q", got != nil, why)
	}
}
