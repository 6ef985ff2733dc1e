package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// tlsServer starts an HTTPS server on 127.0.0.1 presenting chain (leaf
// first) with the pinned clock; it records the SNI it receives.
type tlsServer struct {
	*httptest.Server
	mu  sync.Mutex
	sni string
}

func newTLSServer(t *testing.T, leaf *node, chain []*x509.Certificate, tweak func(*tls.Config)) *tlsServer {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	s := &tlsServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.TLS = &tls.Config{
		Time:         func() time.Time { return at },
		Certificates: []tls.Certificate{cert}, // without SNI (an IP address), GetCertificate is not asked
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			s.mu.Lock()
			s.sni = h.ServerName
			s.mu.Unlock()
			return &cert, nil
		},
	}
	if tweak != nil {
		tweak(s.TLS)
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *tlsServer) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func endpointIDs(r *EndpointResult) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID+"="+f.Level.String())
	}
	return strings.Join(ids, " ")
}

func TestEndpoint(t *testing.T) {
	p := newPKI(t)
	lt := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	lt.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	good := issue(t, lt, p.ica, nil)
	expiredT := leafTmpl("cmg.contoso.com", "cmg.contoso.com")
	expiredT.NotBefore, expiredT.NotAfter = at.Add(-48*time.Hour), at.Add(-time.Hour)
	expired := issue(t, expiredT, p.ica, nil)
	other := issue(t, leafTmpl("other.contoso.com", "other.contoso.com"), p.ica, nil)
	roots := []*x509.Certificate{p.root.cert}
	ica := []*x509.Certificate{p.ica.cert}

	cases := []struct {
		name     string
		leaf     *node
		chain    []*x509.Certificate
		host     string // "" means the server's own https://127.0.0.1:port
		store    []*x509.Certificate
		ids      string
		reason   Reason
		win      WindowsError
		detail   string
		sentICA  bool
		elements int
	}{
		{"good", good, ica, "", nil, "revocation_off=notice", "", WindowsError{}, "", true, 3},
		{"good_with_root_sent", good, []*x509.Certificate{p.ica.cert, p.root.cert}, "", nil, "root_sent=notice revocation_off=notice", "", WindowsError{}, "", true, 3},
		{"missing_intermediate", good, nil, "", nil, "missing_intermediate=error revocation_off=notice", ReasonPartialChain, WinChaining, "no issuer found", false, 1},
		{"missing_intermediate_in_client_store", good, nil, "", ica, "missing_intermediate=warn revocation_off=notice", "", WindowsError{}, "", false, 3},
		{"wrong_name", other, ica, "cmg.contoso.com", nil, "revocation_off=notice chain_name_mismatch=error", ReasonNameMismatch, WinNameMismatch, "cmg.contoso.com", true, 3},
		{"expired", expired, ica, "cmg.contoso.com", nil, "revocation_off=notice chain_expired=error", ReasonExpired, WinExpired, "expired at " + at.Add(-time.Hour).UTC().Format(timeFmt), true, 3},
		{"connect_by_address", good, ica, "cmg.contoso.com", nil, "revocation_off=notice", "", WindowsError{}, "", true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTLSServer(t, tc.leaf, tc.chain, nil)
			o := EndpointOptions{URL: srv.URL, ChainOptions: ChainOptions{Roots: roots, Intermediates: tc.store, At: at}}
			if tc.host != "" {
				o.URL, o.Connect = "https://"+tc.host+":"+srv.port(), srv.Listener.Addr().String()
			}
			r, err := Endpoint(context.Background(), o)
			if r == nil {
				t.Fatalf("no result: %v", err)
			}
			if got := endpointIDs(r); got != tc.ids {
				t.Fatalf("findings %q, want %q: %+v", got, tc.ids, r.Findings)
			}
			if tc.reason == "" {
				if err != nil || !r.Chain.Trusted {
					t.Fatalf("err = %v", err)
				}
			} else {
				wantErr(t, r.Chain, err, tc.reason, tc.win, tc.detail)
				// The chain's error is one error finding, with its Windows code and a fix.
				var errs []Finding
				for _, f := range r.Findings {
					if f.Level == lint.Error {
						errs = append(errs, f)
					}
				}
				if len(errs) != 1 || errs[0].Windows == nil || *errs[0].Windows != tc.win || errs[0].Fix == "" {
					t.Fatalf("error findings %+v", errs)
				}
			}
			if r.SentIntermediates != tc.sentICA || len(r.Chain.Elements) != tc.elements || len(r.Presented) != 1+len(tc.chain) {
				t.Fatalf("sent %v, %d elements, presented %+v", r.SentIntermediates, len(r.Chain.Elements), r.Presented)
			}
			if r.TLSVersion != "TLS 1.3" || r.CipherSuite == "" || r.ALPN != "http/1.1" || r.Presented[0].Thumbprint != thumbprint(tc.leaf.cert) {
				t.Fatalf("connection %+v", r)
			}
			srv.mu.Lock()
			sni := srv.sni
			srv.mu.Unlock()
			if sni != tc.host /* no SNI for an IP address */ || (tc.host != "" && r.Host != tc.host) || r.Address != srv.Listener.Addr().String() {
				t.Fatalf("SNI %q host %q address %q", sni, r.Host, r.Address)
			}
		})
	}
}

// A server that offers only TLS 1.0 and 1.1 is refused: TLS 1.2 minimum.
func TestEndpointOldTLS(t *testing.T) {
	p := newPKI(t)
	srv := newTLSServer(t, p.leaf, []*x509.Certificate{p.ica.cert}, func(c *tls.Config) {
		c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	})
	r, err := Endpoint(context.Background(), EndpointOptions{URL: srv.URL, ChainOptions: ChainOptions{Roots: []*x509.Certificate{p.root.cert}, At: at}})
	var ee *EndpointError
	if !errors.As(err, &ee) || ee.Stage != "handshake" || r == nil || endpointIDs(r) != "tls_version_unsupported=error" || r.Chain != nil || r.Max() != lint.Error {
		t.Fatalf("err = %v, result %+v", err, r)
	}
	// TLS 1.2 is enough.
	srv12 := newTLSServer(t, p.leaf, []*x509.Certificate{p.ica.cert}, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	r, err = Endpoint(context.Background(), EndpointOptions{URL: "https://cmg.contoso.com:" + srv12.port(), Connect: srv12.Listener.Addr().String(),
		ChainOptions: ChainOptions{Roots: []*x509.Certificate{p.root.cert}, At: at}})
	if err != nil || r.TLSVersion != "TLS 1.2" || !strings.HasPrefix(r.CipherSuite, "TLS_ECDHE_ECDSA_") {
		t.Fatalf("err = %v, %s %s", err, r.TLSVersion, r.CipherSuite)
	}
}

// A client certificate goes out when the server asks for one; nothing is
// listening: a connect error.
func TestEndpointClientCertAndUnreachable(t *testing.T) {
	p := newPKI(t)
	got := make(chan int, 1)
	srv := newTLSServer(t, p.leaf, []*x509.Certificate{p.ica.cert}, func(c *tls.Config) {
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error { got <- len(raw); return nil }
	})
	client := issue(t, leafTmpl("client01.contoso.com", "client01.contoso.com"), p.ica, nil)
	o := EndpointOptions{URL: "https://cmg.contoso.com:" + srv.port(), Connect: srv.Listener.Addr().String(),
		ClientCert:   &tls.Certificate{Certificate: [][]byte{client.cert.Raw}, PrivateKey: client.key},
		ChainOptions: ChainOptions{Roots: []*x509.Certificate{p.root.cert}, At: at}}
	r, err := Endpoint(context.Background(), o)
	if err != nil || !r.ClientCertRequested || !r.ClientCertSent {
		t.Fatalf("err = %v, requested %v sent %v", err, r.ClientCertRequested, r.ClientCertSent)
	}
	select { // TLS 1.3: the server reads the client certificate after the client is done
	case n := <-got:
		if n != 1 {
			t.Fatalf("server got %d certificates", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client certificate")
	}

	o.Connect = strings.TrimPrefix(closedURL(t), "http://")
	r, err = Endpoint(context.Background(), o)
	var ee *EndpointError
	if !errors.As(err, &ee) || ee.Stage != "connect" || endpointIDs(r) != "endpoint_unreachable=error" {
		t.Fatalf("err = %v, %+v", err, r)
	}
	for _, bad := range []EndpointOptions{{URL: "http://cmg.contoso.com", ChainOptions: ChainOptions{At: at}}, {URL: "https://cmg.contoso.com", Connect: "127.0.0.1", ChainOptions: ChainOptions{At: at}}, {URL: "https://cmg.contoso.com"}} {
		if r, err := Endpoint(context.Background(), bad); err == nil || r != nil {
			t.Fatalf("%+v: err = %v", bad, err)
		}
	}
}

// Revocation of the presented chain is checked online as in Chain.
func TestEndpointRevocation(t *testing.T) {
	rev := newRevServer(t)
	p := newOnlinePKI(t, rev.URL, false)
	rev.set("/crl/ica.crl", crlDER(t, p.ica, at.Add(-time.Hour), at.Add(time.Hour), p.leaf.cert))
	srv := newTLSServer(t, p.leaf, []*x509.Certificate{p.ica.cert}, nil)
	r, err := Endpoint(context.Background(), EndpointOptions{URL: "https://cmg.contoso.com:" + srv.port(), Connect: srv.Listener.Addr().String(),
		ChainOptions: ChainOptions{Roots: []*x509.Certificate{p.root.cert}, At: at, Revocation: RevocationEndCert, Fetcher: &HTTPFetcher{}}})
	wantErr(t, r.Chain, err, ReasonRevoked, WinRevoked, "revoked at")
	if endpointIDs(r) != "chain_revoked=error" {
		t.Fatalf("findings %s", endpointIDs(r))
	}
}
