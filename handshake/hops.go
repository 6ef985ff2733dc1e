package handshake

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/verify"
)

// The TLS hops of a step: every connection a component makes records the
// chains both sides presented and the verifier's judgement, and the next
// recorded step takes them (flow.Step.TLS).

// addHop records one TLS connection.
func (e *env) addHop(h flow.Hop) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hops = append(e.hops, h)
}

// takeHops returns the connections recorded since the last call.
func (e *env) takeHops() []flow.Hop {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hops
	e.hops = nil
	return h
}

// newHop is a hop with the negotiated version and cipher of cs (nil when
// the handshake did not complete).
func newHop(from, to string, cs *tls.ConnectionState) flow.Hop {
	h := flow.Hop{From: from, To: to}
	if cs != nil && cs.HandshakeComplete {
		h.Version, h.Cipher = tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite)
	}
	return h
}

// judged is the chain verify built, each element with its trust status.
func judged(res *verify.ChainResult) []flow.ChainCert {
	if res == nil {
		return nil
	}
	out := make([]flow.ChainCert, 0, len(res.Elements))
	for _, el := range res.Elements {
		c := chainCert(el.Cert)
		c.Status = statusText(el.Status)
		out = append(out, c)
	}
	return out
}

// verified is the chain crypto/x509 verified (a non-Windows peer such as
// Entra's token service); every element passed.
func verified(cs *tls.ConnectionState) []flow.ChainCert {
	if cs == nil {
		return nil
	}
	if len(cs.VerifiedChains) > 0 {
		var out []flow.ChainCert
		for _, c := range cs.VerifiedChains[0] {
			cc := chainCert(c)
			cc.Status = "OK"
			out = append(out, cc)
		}
		return out
	}
	return presented(cs.PeerCertificates)
}

// presented is a chain as sent, not judged by anyone recorded here.
func presented(certs []*x509.Certificate) []flow.ChainCert {
	var out []flow.ChainCert
	for _, c := range certs {
		out = append(out, chainCert(c))
	}
	return out
}

// presentedTLS is the chain of a tls.Certificate (leaf first).
func presentedTLS(tc *tls.Certificate) []flow.ChainCert {
	if tc == nil {
		return nil
	}
	var certs []*x509.Certificate
	for i, d := range tc.Certificate {
		if i == 0 && tc.Leaf != nil {
			certs = append(certs, tc.Leaf)
			continue
		}
		if c, err := x509.ParseCertificate(d); err == nil {
			certs = append(certs, c)
		}
	}
	return presented(certs)
}

func chainCert(c *x509.Certificate) flow.ChainCert {
	return flow.ChainCert{Subject: certio.DN(c.RawSubject), Issuer: certio.DN(c.RawIssuer),
		SHA1Thumbprint: certio.SHA1Thumbprint(c), NotAfter: c.NotAfter.UTC().Format(time.RFC3339)}
}

// statusText is "OK" for no error, else the CERT_TRUST_ flags without
// their prefix, joined by "|".
func statusText(s verify.TrustStatus) string {
	if s == 0 {
		return "OK"
	}
	names := s.Names()
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "CERT_TRUST_")
	}
	return strings.Join(names, "|")
}
