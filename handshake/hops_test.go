package handshake

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/flow"
)

// cns is the leading CN of each element's subject.
func cns(chain []flow.ChainCert) string {
	var out []string
	for _, c := range chain {
		s, _, _ := strings.Cut(strings.TrimPrefix(c.Subject, "CN="), ",")
		out = append(out, s)
	}
	return strings.Join(out, " > ")
}

func hop(t *testing.T, f *Flow, step, from, to string) flow.Hop {
	t.Helper()
	s := f.Step(step)
	if s == nil {
		t.Fatalf("no step %s", step)
	}
	for _, h := range s.TLS {
		if h.From == from && h.To == to {
			return h
		}
	}
	t.Fatalf("step %s has no TLS hop %s -> %s (hops %+v)", step, from, to, s.TLS)
	return flow.Hop{}
}

// TestHandshakeHops: every TLS connection of a step is recorded with the
// chains presented and the verifier's status of each element.
func TestHandshakeHops(t *testing.T) {
	f := run(t, Happy, Options{})
	h := hop(t, f, StepCMGTLS, CompClient, CompCMG)
	if got := cns(h.Server); got != "cmg.contoso.com > contoso.com Lab Issuing CA > contoso.com Lab Root CA" {
		t.Errorf("cmg-tls server chain = %q", got)
	}
	if !strings.HasPrefix(h.Version, "TLS 1.") || h.Cipher == "" {
		t.Errorf("cmg-tls version %q cipher %q", h.Version, h.Cipher)
	}
	for _, c := range h.Server {
		if c.Status != "OK" || len(c.SHA1Thumbprint) != 40 || c.NotAfter == "" || c.Issuer == "" {
			t.Errorf("cmg-tls element %+v", c)
		}
	}
	if h.Server[0].SHA1Thumbprint != thumb(testMat.CMG.Leaf) || h.Server[0].Subject != "CN=cmg.contoso.com" {
		t.Errorf("cmg-tls leaf %+v", h.Server[0])
	}
	a := hop(t, f, StepAuth, CompClient, CompEntra)
	if len(a.Client) == 0 || !strings.Contains(a.Client[0].Subject, testMat.Device.Leaf.Subject.CommonName) {
		t.Errorf("auth-choice client chain = %+v, want the WPJ device certificate", a.Client)
	}
	if len(a.Server) == 0 || a.Server[0].Status != "OK" {
		t.Errorf("auth-choice server chain = %+v", a.Server)
	}
	hop(t, f, StepCCMToken, CompClient, CompCMG)
	cp := hop(t, f, StepCCMToken, CompCP, CompMP)
	if len(cp.Client) == 0 || cp.Client[0].Status != "OK" || len(cp.Server) == 0 || cp.Server[0].Status != "OK" {
		t.Errorf("ccm-token CP->MP hop = %+v", cp)
	}
	if cp.Version == "" {
		t.Errorf("ccm-token CP->MP hop has no TLS version")
	}
	if got := f.Step(StepLocation).TLS; len(got) != 2 {
		t.Errorf("location hops = %d, want client->CMG and CP->MP", len(got))
	}

	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Steps []struct {
			Step string `json:"step"`
			TLS  []map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	first := v.Steps[0].TLS[0]
	for _, k := range []string{"from", "to", "server_chain", "tls_version", "cipher"} {
		if _, ok := first[k]; !ok {
			t.Errorf("JSON hop lacks %q: %s", k, b[:min(len(b), 600)])
		}
	}
	var el []map[string]string
	json.Unmarshal(first["server_chain"], &el)
	for _, k := range []string{"subject", "issuer", "thumbprint_sha1", "not_after", "status"} {
		if el[0][k] == "" {
			t.Errorf("JSON chain element lacks %q: %v", k, el[0])
		}
	}
}

// TestHandshakeHopsRevoked: a refused CMG certificate still shows its
// chain, the leaf judged revoked.
func TestHandshakeHopsRevoked(t *testing.T) {
	f := run(t, "cmg-cert-revoked", Options{})
	h := hop(t, f, StepCMGTLS, CompClient, CompCMG)
	if len(h.Server) == 0 || !strings.Contains(h.Server[0].Status, "IS_REVOKED") {
		t.Errorf("revoked leaf status = %+v", h.Server)
	}
	if h.Version != "" {
		t.Errorf("refused handshake has version %q", h.Version)
	}
}
