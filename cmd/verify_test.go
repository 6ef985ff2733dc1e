package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// servedLab is a lab whose certificates point at a serve running in this
// process on 127.0.0.1.
type servedLab struct {
	dir, addr string
	stop      func() // stops serve; idempotent
}

// newServedLab makes a lab whose base URL is a free loopback port and runs
// serve on exactly that port, at the pinned time. The port is reserved by
// listening and closing; should another process take it in between, the
// serve start fails and the test says so.
func newServedLab(t *testing.T, extra ...string) *servedLab {
	t.Helper()
	addr := freePort(t)
	dir := filepath.Join(t.TempDir(), "lab")
	args := append([]string{"lab", "create", "--out", dir, "--base-url", "http://" + addr}, extra...)
	if r := runCmd(t, nil, args...); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	return startServe(t, dir, addr)
}

func startServe(t testing.TB, dir, addr string) *servedLab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut},
		Clock: clock.Fixed(pkitest.At), Rand: rand.Reader, Getenv: func(string) string { return "" }}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, f, &serveOptions{lab: dir, listen: addr, poll: 100 * time.Millisecond,
			crlValidity: crl.DefaultCRLValidity, ocspValidity: crl.DefaultOCSPValidity}, ready)
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve on %s: %v\n%s", addr, err, errOut.String())
	}
	stopped := false
	l := &servedLab{dir: dir, addr: addr}
	l.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(l.stop)
	return l
}

func (l *servedLab) path(p ...string) string { return filepath.Join(append([]string{l.dir}, p...)...) }

// verifyDoc is the JSON document of a verify command, as far as tests read it.
type verifyDoc struct {
	Schema  string `json:"schema"`
	Command string `json:"command"`
	Reports []struct {
		Schema  string `json:"schema"`
		Kind    string `json:"kind"`
		Profile *struct {
			Name, How, Reason string
		} `json:"profile"`
		Chain *struct {
			Trusted  bool `json:"trusted"`
			Elements []struct {
				Subject    string `json:"subject"`
				Revocation *struct {
					Status string `json:"status"`
					Source string `json:"source"`
				} `json:"revocation"`
			} `json:"elements"`
		} `json:"chain"`
		Findings []struct {
			ID      string `json:"id"`
			Level   string `json:"level"`
			Message string `json:"message"`
			Origin  string `json:"origin"`
			Windows *struct {
				Name    string `json:"name"`
				HRESULT string `json:"hresult"`
				WinHTTP int    `json:"winhttp"`
			} `json:"windows"`
		} `json:"findings"`
		MaxLevel string `json:"max_level"`
	} `json:"reports"`
	Summary struct {
		Inputs   int    `json:"inputs"`
		MaxLevel string `json:"max_level"`
		FailOn   string `json:"fail_on"`
		Failed   bool   `json:"failed"`
	} `json:"summary"`
}

func decodeVerify(t *testing.T, r result) verifyDoc {
	t.Helper()
	var d verifyDoc
	if err := json.Unmarshal([]byte(r.out), &d); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s\nstderr:\n%s", err, r.out, r.errOut)
	}
	if d.Schema != "cmgpki/verify/v1" || len(d.Reports) == 0 {
		t.Fatalf("schema %q, %d reports", d.Schema, len(d.Reports))
	}
	return d
}

// ids lists "id hresult" of every finding of report i at level error or warn.
func (d verifyDoc) ids(i int) []string {
	var out []string
	for _, f := range d.Reports[i].Findings {
		s := f.ID
		if f.Windows != nil {
			s += " " + f.Windows.HRESULT
		}
		out = append(out, s)
	}
	return out
}

func (d verifyDoc) has(i int, id string) bool {
	for _, s := range d.ids(i) {
		if s == id || strings.HasPrefix(s, id+" ") {
			return true
		}
	}
	return false
}

var at = pkitest.At.Format(time.RFC3339)

// TestVerifyCertRevocationAgainstServe runs the revocation cases against a
// real serve on loopback: good (OCSP answers), revoked (OCSP and the CRL),
// CRL unreachable (check on fails with 0x80092013, check off passes with
// the notice) and an expired CRL.
func TestVerifyCertRevocationAgainstServe(t *testing.T) {
	l := newServedLab(t, "--devices", "0")
	roots := l.path("ca")

	r := runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.crt"), l.path("certs", "client01.crt"), "--roots", roots, "--at", at, "-o", "json")
	d := decodeVerify(t, r)
	if r.code != ExitOK || len(d.Reports) != 2 || d.Summary.Failed || d.Summary.Inputs != 2 {
		t.Fatalf("good: exit %d, %+v\n%s", r.code, d.Summary, r.errOut)
	}
	for i, want := range []string{"mp-https", "pki-client"} {
		rep := d.Reports[i]
		if rep.Profile.Name != want || rep.Profile.How != "auto" || !rep.Chain.Trusted {
			t.Errorf("report %d: profile %+v trusted %v", i, rep.Profile, rep.Chain.Trusted)
		}
		if rv := rep.Chain.Elements[0].Revocation; rv == nil || rv.Status != "good" || rv.Source != "ocsp" {
			t.Errorf("report %d: leaf revocation %+v, want good from ocsp", i, rv)
		}
		if len(d.ids(i)) != 0 {
			t.Errorf("report %d: findings %v", i, d.ids(i))
		}
	}

	// OCSP revoked: revoke, serve re-signs within its poll.
	if r := runCmd(t, nil, "revoke", "--lab", l.dir, "--cert", l.path("certs", "client01.crt"), "--reason", "keyCompromise"); r.code != ExitOK {
		t.Fatalf("revoke: %s", r.errOut)
	}
	eventually(t, "OCSP says revoked", func() error {
		r = runCmd(t, nil, "verify", "cert", l.path("certs", "client01.crt"), "--roots", roots, "--at", at, "-o", "json")
		if r.code != ExitFindings {
			return &UsageError{Err: io.EOF}
		}
		return nil
	})
	d = decodeVerify(t, r)
	if !d.has(0, "chain_revoked 0x80092010") || d.Reports[0].Chain.Elements[0].Revocation.Source != "ocsp" || !d.Summary.Failed {
		t.Errorf("OCSP revoked: %v %+v", d.ids(0), d.Reports[0].Chain.Elements[0].Revocation)
	}
	if !strings.Contains(r.errOut, "Checked 1 certificate: 1 error,") {
		t.Errorf("summary line: %s", r.errOut)
	}

	// CRL revoked, from a CRL made by "cmgpki crl", with serve stopped.
	if r := runCmd(t, nil, "crl", "--lab", l.dir); r.code != ExitOK {
		t.Fatalf("crl: %s", r.errOut)
	}
	l.stop()
	crlFile := l.path("crl", "issuing-ca.crl")
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "client01.crt"), "--roots", roots, "--crl", crlFile, "--crl", l.path("crl", "root-ca.crl"), "--at", at, "-o", "json")
	d = decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "chain_revoked 0x80092010") || d.Reports[0].Chain.Elements[0].Revocation.Source != "crl" {
		t.Errorf("CRL revoked: exit %d %v", r.code, d.ids(0))
	}

	// CRL unreachable: serve is stopped.
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.crt"), "--roots", roots, "--at", at, "-o", "json")
	d = decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "chain_revocation_offline 0x80092013") {
		t.Errorf("unreachable, check on: exit %d %v", r.code, d.ids(0))
	}
	for _, f := range d.Reports[0].Findings {
		if f.ID == "chain_revocation_offline" && (f.Windows.WinHTTP != 12057 || f.Level != "error" || f.Origin != "chain") {
			t.Errorf("offline finding %+v", f)
		}
	}
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.crt"), "--roots", roots, "--at", at, "--no-crl-check", "-o", "json")
	d = decodeVerify(t, r)
	if r.code != ExitOK || !d.has(0, "revocation_off") || d.Reports[0].MaxLevel != "notice" {
		t.Errorf("unreachable, check off: exit %d %v", r.code, d.ids(0))
	}
	if !strings.Contains(r.errOut, "Note: revocation not checked") || !strings.Contains(r.errOut, "/NoCRLCheck only carries ccmsetup through bootstrap") {
		t.Errorf("no notice on stderr:\n%s", r.errOut)
	}

	// Expired CRL: the supplied CRL is past its nextUpdate (7 days) and
	// nothing answers online: revocation offline, as on a client.
	later := pkitest.At.Add(8 * 24 * time.Hour).Format(time.RFC3339)
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.crt"), "--roots", roots, "--crl", crlFile, "--crl", l.path("crl", "root-ca.crl"), "--at", later, "-o", "json")
	d = decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "chain_revocation_offline 0x80092013") {
		t.Errorf("expired CRL: exit %d %v", r.code, d.ids(0))
	}
	found := false
	for _, f := range d.Reports[0].Findings {
		found = found || strings.Contains(f.Message, "nextUpdate") || strings.Contains(f.Message, "expired")
	}
	if !found {
		t.Errorf("expired CRL: no finding says the CRL expired: %+v", d.Reports[0].Findings)
	}
	r = runCmd(t, nil, "verify", "crl", crlFile, "--issuer", l.path("ca", "issuing-ca.crt"), "--at", later, "-o", "json")
	d = decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "crl_expired 0x80092013") {
		t.Errorf("verify crl, expired: exit %d %v", r.code, d.ids(0))
	}
}

// TestVerifyCRLCommand: a CRL made by "cmgpki crl" is good, from a file and
// from serve's URL; an unreachable URL is exit 3.
func TestVerifyCRLCommand(t *testing.T) {
	l := newServedLab(t, "--devices", "0", "--clients", "1")
	if r := runCmd(t, nil, "crl", "--lab", l.dir); r.code != ExitOK {
		t.Fatalf("crl: %s", r.errOut)
	}
	issuer := l.path("ca", "issuing-ca.crt")
	for _, src := range []string{l.path("crl", "issuing-ca.crl"), l.path("crl", "issuing-ca.pem"), "http://" + l.addr + "/crl/issuing-ca.crl"} {
		r := runCmd(t, nil, "verify", "crl", src, "--issuer", issuer, "--at", at, "-o", "json")
		d := decodeVerify(t, r)
		if r.code != ExitOK || d.Reports[0].Kind != "crl" || d.Reports[0].MaxLevel == "error" {
			t.Errorf("%s: exit %d %v\n%s", src, r.code, d.ids(0), r.errOut)
		}
	}
	// The root's certificate as issuer: signature and issuer do not match.
	r := runCmd(t, nil, "verify", "crl", l.path("crl", "issuing-ca.crl"), "--issuer", l.path("ca", "root-ca.crt"), "--at", at, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "crl_issuer_mismatch") {
		t.Errorf("wrong issuer: exit %d %v", r.code, d.ids(0))
	}
	r = runCmd(t, nil, "verify", "crl", l.path("crl", "issuing-ca.crl"), "--issuer", issuer, "--at", at)
	if r.code != ExitOK || !strings.Contains(r.out, "CRL: issuer CN=contoso.com Lab Issuing CA, number 2") {
		t.Errorf("text: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}
	l.stop()
	r = runCmd(t, nil, "verify", "crl", "http://"+l.addr+"/crl/issuing-ca.crl", "--issuer", issuer, "--at", at)
	if r.code != ExitFailure || !strings.Contains(r.errOut, "fetching CRL http://"+l.addr) {
		t.Errorf("unreachable URL: exit %d\n%s", r.code, r.errOut)
	}
}

// tlsServer serves HTTPS on 127.0.0.1 with the lab certificate name, its
// chain (leaf first) and key, at the pinned time.
func tlsServer(t *testing.T, dir, name string, leafOnly bool) string {
	t.Helper()
	d, err := lab.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := d.TLSCertificate(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if leafOnly {
		cert.Certificate = cert.Certificate[:1]
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, Time: func() time.Time { return pkitest.At }, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

// TestVerifyEndpoint: real TLS servers on 127.0.0.1 presenting a good
// chain, a chain for another name, and a leaf without its intermediate;
// --connect keeps the certificate's name for SNI and the name check.
func TestVerifyEndpoint(t *testing.T) {
	l := newServedLab(t, "--devices", "0", "--clients", "1")
	mp := tlsServer(t, l.dir, "mp-https", false)
	cmg := tlsServer(t, l.dir, "cmg-server", false)
	mpLeaf := tlsServer(t, l.dir, "mp-https", true)
	roots := l.path("ca", "root-ca.crt") // the root only: intermediates must come from the server
	other := caInit(t)                   // another lab's root: not the one the server chains to

	for _, tc := range []struct {
		name, url, connect string
		extra              []string
		code               ExitCode
		profile            string
		want               []string
	}{
		{"good chain", "https://mp.contoso.com", mp, nil, ExitOK, "mp-https", nil},
		{"good chain, intranet name", "https://mp01.corp.contoso.com", mp, nil, ExitOK, "mp-https", nil},
		{"cmg good chain", "https://cmg.contoso.com", cmg, nil, ExitOK, "cmg-server", nil},
		{"name mismatch", "https://mp.contoso.com", cmg, nil, ExitFindings, "cmg-server", []string{"chain_name_mismatch 0x800B010F"}},
		{"missing intermediate", "https://mp.contoso.com", mpLeaf, nil, ExitFindings, "", []string{"missing_intermediate 0x800B010A"}},
		{"untrusted root", "https://mp.contoso.com", mp, []string{"--roots", filepath.Join(other, "ca", "root-ca.crt"), "--intermediates", roots}, ExitFindings, "mp-https", []string{"chain_untrusted_root 0x800B0109"}},
		{"given profile", "https://mp.contoso.com", mp, []string{"--profile", "cmg-server"}, ExitFindings, "cmg-server", []string{"e_cmg_service_name_prefix"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"verify", "endpoint", tc.url, "--connect", tc.connect, "--at", at, "-o", "json"}, tc.extra...)
			if !strings.Contains(strings.Join(tc.extra, " "), "--roots") {
				args = append(args, "--roots", roots)
			}
			r := runCmd(t, nil, args...)
			d := decodeVerify(t, r)
			for _, w := range tc.want {
				if !d.has(0, w) {
					t.Errorf("lacks %s: %v", w, d.ids(0))
				}
			}
			if tc.code == ExitOK && d.Reports[0].MaxLevel == "error" {
				t.Errorf("findings %v", d.ids(0))
			}
			if r.code != tc.code {
				t.Errorf("exit %d, want %d: %v\n%s", r.code, tc.code, d.ids(0), r.errOut)
			}
			if tc.profile != "" && (d.Reports[0].Profile == nil || d.Reports[0].Profile.Name != tc.profile) {
				t.Errorf("profile %+v, want %s", d.Reports[0].Profile, tc.profile)
			}
		})
	}

	r := runCmd(t, nil, "verify", "endpoint", "https://mp.contoso.com", "--connect", mp, "--roots", roots, "--at", at)
	for _, want := range []string{"https://mp.contoso.com", "TLS: TLS 1.3", "Profile: mp-https (auto:", "CN=mp.contoso.com", "No findings."} {
		if !strings.Contains(r.out, want) {
			t.Errorf("text lacks %q:\n%s", want, r.out)
		}
	}
	// Nothing listening: the check could not run.
	l.stop()
	r = runCmd(t, nil, "verify", "endpoint", "https://mp.contoso.com", "--connect", l.addr, "--roots", roots, "--at", at, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFailure || !d.has(0, "endpoint_unreachable") {
		t.Errorf("unreachable: exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
}

// TestVerifyClientSelection: on a lab's certs directory, the client picks
// its own certificate and says why every other is excluded.
func TestVerifyClientSelection(t *testing.T) {
	l := newServedLab(t, "--clients", "2")
	l.stop()
	r := runCmd(t, nil, "verify", "client-selection", l.path("certs"), "--roots", l.path("ca"), "--computer", "client02", "--at", at)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}
	for _, want := range []string{"client02.crt", "selected", "excluded at 4 client_auth", "excluded at 5 subject", "Criteria:"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("table lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.errOut, "Note: revocation not checked") {
		t.Errorf("stderr: %s", r.errOut)
	}
	r = runCmd(t, nil, "verify", "client-selection", l.path("certs"), "--roots", l.path("ca"), "--criteria", "SubjectStr:client", "--fail-on-multiple", "--at", at, "-o", "json")
	d := decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "selection_none") || d.Reports[0].Kind != "client-selection" {
		t.Errorf("fail on multiple: exit %d %v", r.code, d.ids(0))
	}
	// A certificate issuers list naming another root: the client stops at
	// step 1 and uses no PKI certificate.
	r2 := runCmd(t, nil, "verify", "client-selection", l.path("certs"), "--roots", l.path("ca"), "--computer", "client02",
		"--issuers", "CN=Fabrikam Root; O=Fabrikam", "--at", at, "-o", "json")
	if d := decodeVerify(t, r2); r2.code != ExitFindings || !d.has(0, "selection_none") || !strings.Contains(r2.out, `"step_name": "issuers"`) {
		t.Errorf("--issuers of another root: exit %d %v", r2.code, d.ids(0))
	}
	// Every candidate once: 2 clients, cmg-server, mp-https, connection
	// point and the device, though each is in .crt, .cer, .chain.pem and .pfx.
	var sel struct {
		Reports []struct {
			Selection struct {
				Candidates []struct{ Name string } `json:"candidates"`
			} `json:"selection"`
		} `json:"reports"`
	}
	json.Unmarshal([]byte(r.out), &sel)
	if n := len(sel.Reports[0].Selection.Candidates); n != 6 {
		t.Errorf("%d candidates, want 6: %+v", n, sel.Reports[0].Selection.Candidates)
	}
}

// TestVerifyExitCodesAndFailOn: a chain complete only through AIA is a
// warning: exit 0 by default, 1 with --fail-on warn; a notice fails only
// at --fail-on notice.
func TestVerifyExitCodesAndFailOn(t *testing.T) {
	l := newServedLab(t, "--devices", "0", "--clients", "1")
	base := []string{"verify", "cert", l.path("certs", "mp-https.crt"), "--roots", l.path("ca", "root-ca.crt"), "--aia-fetch", "--at", at}
	r := runCmd(t, nil, append(base, "-o", "json")...)
	d := decodeVerify(t, r)
	if r.code != ExitOK || !d.has(0, "w_chain_complete_only_through_aia") || d.Summary.MaxLevel != "warn" {
		t.Fatalf("AIA: exit %d %v %+v\n%s", r.code, d.ids(0), d.Summary, r.errOut)
	}
	r = runCmd(t, nil, append(base, "--fail-on", "warn", "-o", "json")...)
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.Summary.Failed || d.Summary.FailOn != "warn" {
		t.Errorf("--fail-on warn: exit %d %+v", r.code, d.Summary)
	}
	// Without AIA fetching the intermediate is missing: an error.
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.crt"), "--roots", l.path("ca", "root-ca.crt"), "--at", at, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "e_chain_incomplete 0x800B010A") {
		t.Errorf("no AIA: exit %d %v", r.code, d.ids(0))
	}
	nocheck := []string{"verify", "cert", l.path("certs", "mp-https.chain.pem"), "--roots", l.path("ca"), "--no-crl-check", "--at", at}
	if r := runCmd(t, nil, nocheck...); r.code != ExitOK {
		t.Errorf("notice at --fail-on error: exit %d", r.code)
	}
	if r := runCmd(t, nil, append(nocheck, "--fail-on", "notice")...); r.code != ExitFindings || !strings.Contains(r.errOut, "failed at --fail-on notice") {
		t.Errorf("notice at --fail-on notice: exit %d\n%s", r.code, r.errOut)
	}
	// --profile none with --eku: clientAuth is not allowed by an MP cert.
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "mp-https.chain.pem"), "--roots", l.path("ca"), "--no-crl-check", "--at", at, "--profile", "none", "--eku", "clientAuth", "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "chain_wrong_usage 0x800B0110") || d.Reports[0].Profile.How != "none" {
		t.Errorf("--eku clientAuth: exit %d %v", r.code, d.ids(0))
	}
}

// TestVerifyInputs: PFX with the lab password (key matches, legacy 3DES);
// --key matching and not; a PFX of modern AES protection warns.
func TestVerifyInputs(t *testing.T) {
	l := newServedLab(t, "--devices", "0", "--clients", "1")
	l.stop()
	pw := l.path("pfx-password.txt")
	common := []string{"--roots", l.path("ca"), "--no-crl-check", "--at", at, "-o", "json"}
	r := runCmd(t, nil, append([]string{"verify", "cert", l.path("certs", "cmg-server.pfx"), "--password-file", pw}, common...)...)
	d := decodeVerify(t, r)
	if r.code != ExitOK || d.Reports[0].Profile.Name != "cmg-server" || d.has(0, "w_pfx_aes_only") {
		t.Errorf("legacy PFX: exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
	if !strings.Contains(r.out, `"key_matches": true`) || !strings.Contains(r.out, `"format": "pkcs12"`) {
		t.Errorf("input not described:\n%s", r.out)
	}
	r = runCmd(t, nil, append([]string{"verify", "cert", l.path("certs", "client01.pfx"), "--password-file", pw}, common...)...)
	if d := decodeVerify(t, r); r.code != ExitOK || !d.has(0, "w_pfx_aes_only") {
		t.Errorf("modern PFX: exit %d %v", r.code, d.ids(0))
	}
	r = runCmd(t, nil, append([]string{"verify", "cert", l.path("certs", "client01.crt"), "--key", l.path("certs", "mp-https.key")}, common...)...)
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "e_key_mismatch") {
		t.Errorf("--key of another cert: exit %d %v", r.code, d.ids(0))
	}
	r = runCmd(t, nil, append([]string{"verify", "cert", l.path("certs", "client01.crt"), "--key", l.path("certs", "client01.key")}, common...)...)
	if d := decodeVerify(t, r); r.code != ExitOK || d.has(0, "e_key_mismatch") {
		t.Errorf("--key of the cert: exit %d %v", r.code, d.ids(0))
	}
}

// TestVerifyBadInput: usage and input errors are exit 2, name the flag or
// file, and print no result; a PFX with a wrong password is exit 1 with
// the finding e_pfx_wrong_password (no password at all stays exit 2).
func TestVerifyBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "1"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	crt := filepath.Join(dir, "certs", "mp-https.crt")
	pfx := filepath.Join(dir, "certs", "cmg-server.pfx")
	wrongPW := writeFile(t, t.TempDir(), "pw.txt", "not-the-password\n")
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no file", nil, []string{"verify", "cert"}, []string{"give at least one FILE"}},
		{"missing file", nil, []string{"verify", "cert", filepath.Join(dir, "nope.crt")}, []string{"FILE", "nope.crt", "no such file"}},
		{"not a certificate", nil, []string{"verify", "cert", filepath.Join(dir, "certs", "mp-https.key")}, []string{"mp-https.key", "no certificate found"}},
		{"bad --at", nil, []string{"verify", "cert", crt, "--at", "tomorrow"}, []string{"--at", "RFC 3339"}},
		{"bad --profile", nil, []string{"verify", "cert", crt, "--profile", "web"}, []string{"--profile", `"web"`}},
		{"bad --eku", nil, []string{"verify", "cert", crt, "--eku", "codeSigning"}, []string{"--eku", "codeSigning"}},
		{"bad --fail-on", nil, []string{"verify", "cert", crt, "--fail-on", "fatal"}, []string{"--fail-on", `"fatal"`}},
		{"bad --output", nil, []string{"verify", "cert", crt, "--output", "xml"}, []string{"--output", `"xml"`}},
		{"bad --cm-version", nil, []string{"verify", "cert", crt, "--cm-version", "2413"}, []string{"--cm-version 2413", "YYMM"}},
		{"bad --max-depth", nil, []string{"verify", "cert", crt, "--max-depth", "0"}, []string{"--max-depth"}},
		{"both crl flags", nil, []string{"verify", "cert", crt, "--crl-check", "--no-crl-check"}, []string{"--crl-check and --no-crl-check"}},
		{"missing roots", nil, []string{"verify", "cert", crt, "--roots", filepath.Join(dir, "nope")}, []string{"--roots", "nope"}},
		{"empty roots dir", nil, []string{"verify", "cert", crt, "--roots", empty}, []string{"--roots", "no certificate files"}},
		{"bad --crl", nil, []string{"verify", "cert", crt, "--crl", crt}, []string{"--crl", "no CRL found"}},
		{"PFX without password", nil, []string{"verify", "cert", pfx}, []string{pfx, "--password-file", "CMGPKI_PFX_PASSWORD"}},
		{"--key with two files", nil, []string{"verify", "cert", crt, crt, "--key", filepath.Join(dir, "certs", "mp-https.key")}, []string{"--key", "exactly one FILE"}},
		{"endpoint http URL", nil, []string{"verify", "endpoint", "http://mp.contoso.com"}, []string{"https://HOST[:PORT]"}},
		{"endpoint bad --connect", nil, []string{"verify", "endpoint", "https://mp.contoso.com", "--connect", "10.0.0.1"}, []string{"--connect", "IP:PORT"}},
		{"endpoint client profile", nil, []string{"verify", "endpoint", "https://mp.contoso.com", "--profile", "pki-client"}, []string{"--profile", "cmg-server, mp-https"}},
		{"crl without issuer", nil, []string{"verify", "crl", crt}, []string{"--issuer is required"}},
		{"crl of a certificate", nil, []string{"verify", "crl", crt, "--issuer", crt}, []string{"holds certificates, not a CRL"}},
		{"selection without computer", nil, []string{"verify", "client-selection", filepath.Join(dir, "certs")}, []string{"--computer"}},
		{"selection bad criteria", nil, []string{"verify", "client-selection", crt, "--criteria", "Issuer:x"}, []string{"--criteria"}},
		{"unknown verify command", nil, []string{"verify", "chain"}, []string{`unknown command "chain"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.env, tc.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
				}
			}
			if r.out != "" {
				t.Errorf("stdout is not empty: %q", r.out)
			}
		})
	}

	// A PFX that the password does not open is a finding, not unreadable
	// input: exit 1 and a report with the input finding only.
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"PFX wrong password file", nil, []string{"--password-file", wrongPW}, "--password-file " + wrongPW},
		{"PFX wrong env password", map[string]string{"CMGPKI_PFX_PASSWORD": "nope"}, nil, "CMGPKI_PFX_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.env, append([]string{"verify", "cert", pfx, "-o", "json"}, tc.args...)...)
			d := decodeVerify(t, r)
			if r.code != ExitFindings || strings.Join(d.ids(0), ",") != "e_pfx_wrong_password" || d.Reports[0].Chain != nil {
				t.Fatalf("exit %d, findings %v, want 1 and e_pfx_wrong_password only\n%s", r.code, d.ids(0), r.errOut)
			}
			if msg := d.Reports[0].Findings[0].Message; !strings.Contains(msg, tc.want) || !strings.Contains(msg, "does not open it") {
				t.Errorf("message %q lacks %q", msg, tc.want)
			}
		})
	}
}

// TestVerifyGolden compares the text output of verify cert on a fixed lab
// (fixed dates, names from the spec; no serials, thumbprints or durations
// in the text) with cmd/testdata/verify_cert_text.golden;
// go test ./cmd -run VerifyGolden -update rewrites it.
func TestVerifyGolden(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// Fixed dates, not the pinned clock: the text shows expiry dates, and
	// the golden must not move with CMGPKI_TEST_NOW.
	if r := runCmd(t, nil, "lab", "create", "--out", "lab", "--devices", "0", "--clients", "1", "--not-before", "2026-01-01T00:00:00Z"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	r := runCmd(t, nil, "verify", "cert", "lab/certs/mp-https.chain.pem", "lab/certs/cmg-server.crt", "--roots", "lab/ca", "--no-crl-check", "--at", "2026-06-01T00:00:00Z", "--profile", "cmg-server")
	if r.code != ExitFindings {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	got := trimLines(r.out)
	path := filepath.Join(wd(t), "testdata", "verify_cert_text.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -run VerifyGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update after review):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
	if !strings.HasSuffix(strings.TrimSpace(r.errOut), "Error: verify cert: findings at or above error (highest: error)") ||
		!strings.Contains(r.errOut, "Checked 2 certificates: 1 error, 0 warnings, 2 notices; failed at --fail-on error") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
}

var testDir, _ = os.Getwd() // the package directory, before any t.Chdir

func wd(t *testing.T) string { return testDir }

// TestVerifyJSONShape: the document is the same shape for one input and
// for several, with the documented keys.
func TestVerifyJSONShape(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "1"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	keys := func(m map[string]json.RawMessage) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	for _, files := range [][]string{{"mp-https.crt"}, {"mp-https.crt", "client01.crt"}} {
		args := []string{"verify", "cert", "--roots", filepath.Join(dir, "ca"), "--no-crl-check", "--at", at, "-o", "json"}
		for _, f := range files {
			args = append(args, filepath.Join(dir, "certs", f))
		}
		r := runCmd(t, nil, args...)
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, r.out)
		}
		if got := keys(doc); got != "command reports schema summary" {
			t.Errorf("top-level keys %q", got)
		}
		var reps []map[string]json.RawMessage
		json.Unmarshal(doc["reports"], &reps)
		if len(reps) != len(files) {
			t.Fatalf("%d reports for %d files", len(reps), len(files))
		}
		if got := keys(reps[0]); got != "at certificate chain counts findings input kind max_level profile schema" {
			t.Errorf("report keys %q", got)
		}
		var sum map[string]json.RawMessage
		json.Unmarshal(doc["summary"], &sum)
		if got := keys(sum); got != "counts fail_on failed inputs max_level" {
			t.Errorf("summary keys %q", got)
		}
	}
}

// TestVerifySystemRoots: --system-roots reads $SSL_CERT_FILE (or the
// system bundle) and says so on stderr.
func TestVerifySystemRoots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "1"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	root := filepath.Join(dir, "ca", "root-ca.crt")
	r := runCmd(t, map[string]string{"SSL_CERT_FILE": root}, "verify", "cert", filepath.Join(dir, "certs", "mp-https.chain.pem"), "--system-roots", "--no-crl-check", "--at", at, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitOK || !d.Reports[0].Chain.Trusted {
		t.Errorf("exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
	if !strings.Contains(r.errOut, "Note: --system-roots: 1 roots from "+root) {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	r = runCmd(t, nil, "verify", "cert", filepath.Join(dir, "certs", "mp-https.chain.pem"), "--no-crl-check", "--at", at, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "chain_untrusted_root 0x800B0109") && !d.has(0, "e_chain_incomplete") {
		t.Errorf("no roots: exit %d %v", r.code, d.ids(0))
	}
	if !strings.Contains(r.errOut, "Warning: no trusted roots given") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
}

// TestVerifyTableFitsTerminal: on an 80-column terminal every line fits
// and the findings table keeps the Windows error (wrapped, not dropped).
func TestVerifyTableFitsTerminal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "1"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	var out, errOut bytes.Buffer
	f := &Factory{IO: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutIsTTY: true, TermWidth: 80},
		Clock: clock.Fixed(pkitest.At), Rand: rand.Reader, Getenv: func(string) string { return "" }}
	code := run(context.Background(), f, []string{"verify", "cert", filepath.Join(dir, "certs", "mp-https.crt"), "--roots", filepath.Join(dir, "ca"),
		"--no-crl-check", "--at", at, "--profile", "none", "--eku", "clientAuth"})
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if (strings.HasPrefix(l, "|") || strings.HasPrefix(l, "+")) && widest(l) > 80 {
			t.Errorf("table line %d > 80 columns: %q\n%s", widest(l), l, out.String())
			break
		}
	}
	for _, want := range []string{"WINDOWS ERROR", "CERT_E_WRONG_USAGE", "0x800B0110", "chain_wrong_usage"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("80-column table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestVerifyCompletion: profile names with auto and none, the server roles
// for an endpoint, --fail-on levels, and files for FILE arguments.
func TestVerifyCompletion(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want      string
		directive string
	}{
		{[]string{"verify", "cert", "--profile", "a"}, "auto", ":4"},
		{[]string{"verify", "cert", "--profile", "n"}, "none", ":4"},
		{[]string{"verify", "endpoint", "--profile", ""}, "auto cmg-server mp-https none", ":4"},
		{[]string{"verify", "crl", "--fail-on", ""}, "error warn notice", ":4"},
		{[]string{"verify", "cert", "--eku", "s"}, "serverAuth", ":4"},
		{[]string{"verify", "cert", ""}, "", ":0"},
		{[]string{"verify", "cert", "--roots", ""}, "", ":0"},
	} {
		got, directive := complete(t, tc.args...)
		if strings.Join(got, " ") != tc.want || directive != tc.directive {
			t.Errorf("complete %q = %q %s, want %q %s", tc.args, got, directive, tc.want, tc.directive)
		}
	}
}

// TestVerifyOpenSSLPFX: PFX files made by openssl, as admins export them:
// the OpenSSL 3 default (PBES2/AES) opens and warns for Server 2016 and
// older; a certificate-only PFX is the finding e_pfx_no_private_key (exit
// 1), in a report of the input only: certio reads no keyless PFX.
func TestVerifyOpenSSLPFX(t *testing.T) {
	pkitest.OpenSSL(t)
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCmd(t, nil, "lab", "create", "--out", dir, "--devices", "0", "--clients", "1"); r.code != ExitOK {
		t.Fatalf("lab create: %s", r.errOut)
	}
	out := t.TempDir()
	withKey, noKey := filepath.Join(out, "with-key.pfx"), filepath.Join(out, "no-key.pfx")
	crt, key := filepath.Join(dir, "certs", "mp-https.crt"), filepath.Join(dir, "certs", "mp-https.key")
	pkitest.MustRun(t, "pkcs12", "-export", "-in", crt, "-inkey", key, "-certfile", filepath.Join(dir, "ca", "issuing-ca.crt"), "-out", withKey, "-passout", "pass:secret")
	pkitest.MustRun(t, "pkcs12", "-export", "-nokeys", "-in", crt, "-out", noKey, "-passout", "pass:secret")
	env := map[string]string{"CMGPKI_PFX_PASSWORD": "secret"}
	common := []string{"--roots", filepath.Join(dir, "ca", "root-ca.crt"), "--no-crl-check", "--at", at, "-o", "json"}

	r := runCmd(t, env, append([]string{"verify", "cert", withKey}, common...)...)
	d := decodeVerify(t, r)
	if r.code != ExitOK || !d.has(0, "w_pfx_aes_only") || d.has(0, "e_pfx_no_private_key") || !strings.Contains(r.out, `"key_matches": true`) {
		t.Errorf("openssl AES PFX: exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
	if !d.Reports[0].Chain.Trusted {
		t.Error("the intermediate in the PFX was not used")
	}
	r = runCmd(t, env, append([]string{"verify", "cert", noKey}, common...)...)
	d = decodeVerify(t, r)
	if r.code != ExitFindings || !d.has(0, "e_pfx_no_private_key") || d.has(0, "e_pfx_wrong_password") || !strings.Contains(r.out, "no-key.pfx") {
		t.Errorf("certificate-only PFX: exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
	// Several files: the keyless PFX is one report among the others.
	r = runCmd(t, env, append([]string{"verify", "cert", withKey, noKey}, common...)...)
	if d := decodeVerify(t, r); r.code != ExitFindings || len(d.Reports) != 2 || d.has(0, "e_pfx_no_private_key") || !d.has(1, "e_pfx_no_private_key") {
		t.Errorf("two PFX: exit %d %v / %v", r.code, d.ids(0), d.ids(1))
	}
}

// TestVerifyAtWithOnlineRevocation: with --at 40 days after now and serve
// answering, the answers fetched now are judged at fetch time (good, not
// offline, as a client judges the answer it just got) while the
// certificates are judged at --at; a Note says so. --crl files stay judged
// at --at.
func TestVerifyAtWithOnlineRevocation(t *testing.T) {
	l := newServedLab(t, "--devices", "0", "--clients", "1")
	later := pkitest.At.Add(40 * 24 * time.Hour).Format(time.RFC3339)
	r := runCmd(t, nil, "verify", "cert", l.path("certs", "client01.crt"), "--roots", l.path("ca"), "--at", later, "-o", "json")
	d := decodeVerify(t, r)
	if r.code != ExitOK || d.has(0, "chain_revocation_offline") {
		t.Fatalf("exit %d %v\n%s", r.code, d.ids(0), r.errOut)
	}
	if rv := d.Reports[0].Chain.Elements[0].Revocation; rv == nil || rv.Status != "good" {
		t.Errorf("leaf revocation %+v, want good", rv)
	}
	if !strings.Contains(r.errOut, "Note: --at "+later+" is not now: OCSP and CDP answers fetched online are judged at fetch time") {
		t.Errorf("no Note on stderr:\n%s", r.errOut)
	}
	// At now: no Note.
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "client01.crt"), "--roots", l.path("ca"), "--at", at, "-o", "json")
	if r.code != ExitOK || strings.Contains(r.errOut, "is not now") {
		t.Errorf("at now: exit %d\n%s", r.code, r.errOut)
	}
	// CRL files given with --crl are judged at --at: expired there.
	mustRun(t, nil, "crl", "--lab", l.dir)
	l.stop()
	r = runCmd(t, nil, "verify", "cert", l.path("certs", "client01.crt"), "--roots", l.path("ca"), "--crl", l.path("crl", "issuing-ca.crl"),
		"--crl", l.path("crl", "root-ca.crl"), "--at", later, "-o", "json")
	if d := decodeVerify(t, r); r.code != ExitFindings || !d.has(0, "chain_revocation_offline") {
		t.Errorf("--crl at --at: exit %d %v", r.code, d.ids(0))
	}
}
