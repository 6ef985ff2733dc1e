package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
)

// DefaultEndpointTimeout bounds the TCP connect and TLS handshake of
// Endpoint when EndpointOptions.Timeout is zero.
const DefaultEndpointTimeout = 15 * time.Second

// EndpointOptions are the inputs of Endpoint. The embedded ChainOptions are
// those of the chain check of the presented certificate: Roots (the
// client's root store), At (required; also the handshake's time),
// Revocation, Fetcher, CRLs, AIAFetch and the retrieval limits.
// Intermediates are the client's intermediate store, used after the
// certificates the server presents. Name defaults to the URL's host and
// Usages to serverAuth.
type EndpointOptions struct {
	ChainOptions
	// URL is https://host[:port]; the port defaults to 443. A path is
	// ignored.
	URL string
	// Connect, when set, is the ip:port dialled instead of the URL's host;
	// SNI and the name check still use the URL's host (testing a name
	// before DNS points at the address).
	Connect string
	// ClientCert is sent when the server asks for a client certificate;
	// nil sends none.
	ClientCert *tls.Certificate
	// Timeout bounds the connect and the handshake; zero means
	// DefaultEndpointTimeout.
	Timeout time.Duration
}

// PresentedCert is one certificate the server sent, in the order sent.
type PresentedCert struct {
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
	Thumbprint string `json:"thumbprint_sha1"`
	SelfSigned bool   `json:"self_signed,omitempty"`
}

// EndpointResult is what Endpoint saw: the negotiated connection, the
// certificates presented, the chain verdict on them, and findings.
type EndpointResult struct {
	URL     string `json:"url"`
	Host    string `json:"host"`    // sent as SNI and matched against the certificate
	Address string `json:"address"` // dialled
	// Negotiated; empty when the handshake failed.
	TLSVersion          string          `json:"tls_version,omitempty"`
	CipherSuite         string          `json:"cipher_suite,omitempty"`
	ALPN                string          `json:"alpn,omitempty"`
	ClientCertRequested bool            `json:"client_cert_requested"`
	ClientCertSent      bool            `json:"client_cert_sent"`
	Presented           []PresentedCert `json:"presented,omitempty"`
	// SentIntermediates says whether the server sent any CA certificate
	// besides a self-signed root.
	SentIntermediates bool         `json:"sent_intermediates"`
	Chain             *ChainResult `json:"chain,omitempty"`
	Findings          []Finding    `json:"findings"`
}

// Max is the highest level among the findings (lint.Pass when none).
func (r *EndpointResult) Max() lint.Status { return maxLevel(r.Findings) }

// EndpointError is returned by Endpoint when no TLS session was
// established: Stage is "connect" or "handshake".
type EndpointError struct {
	URL   string
	Stage string
	Err   error
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("verify: endpoint %s: %s: %v", e.URL, e.Stage, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// Endpoint connects to a TLS server as a client would and judges what it
// presents. The handshake (TLS 1.2 minimum, SNI from the URL, clock At)
// accepts any certificate and keeps what the server sent; the verdict is
// Chain's, not crypto/tls's, so it follows Windows (CN fallback, SHA-1 under
// enterprise roots, DirectoryName constraints). Missing intermediates are a
// finding of their own.
//
// Endpoint returns the result and: a *EndpointError when no session was
// established (the result says why), a *ChainError when the presented
// chain is not trusted, nil otherwise. Bad options give a plain error and
// no result. Endpoint fetches nothing but through ChainOptions.Fetcher.
func Endpoint(ctx context.Context, o EndpointOptions) (*EndpointResult, error) {
	if o.At.IsZero() {
		return nil, errors.New("verify: EndpointOptions.At is required")
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return nil, fmt.Errorf("verify: endpoint URL %q: want https://host[:port]", o.URL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(host, port)
	if o.Connect != "" {
		if _, _, err := net.SplitHostPort(o.Connect); err != nil {
			return nil, fmt.Errorf("verify: connect address %q: want ip:port: %v", o.Connect, err)
		}
		addr = o.Connect
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultEndpointTimeout
	}
	res := &EndpointResult{URL: o.URL, Host: host, Address: addr, Findings: []Finding{}}
	add := func(id string, lvl lint.Status, win *WindowsError, fix, format string, args ...any) {
		res.Findings = append(res.Findings, Finding{ID: id, Level: lvl, Message: fmt.Sprintf(format, args...), Windows: win, Fix: fix})
	}

	var presented []*x509.Certificate
	at := o.At
	cfg := &tls.Config{
		ServerName: host,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		Time:       func() time.Time { return at },
		// Chain decides, not crypto/tls: keep what the server sent.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			presented = cs.PeerCertificates
			return nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			res.ClientCertRequested = true
			if o.ClientCert != nil {
				res.ClientCertSent = true
				return o.ClientCert, nil
			}
			return &tls.Certificate{}, nil
		},
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(hctx, "tcp", addr)
	if err != nil {
		add("endpoint_unreachable", lint.Error, nil, "check the address, the port and the firewall", "cannot connect to %s: %v", addr, err)
		return res, &EndpointError{URL: o.URL, Stage: "connect", Err: err}
	}
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(hctx); err != nil {
		if strings.Contains(err.Error(), "protocol version") {
			add("tls_version_unsupported", lint.Error, nil, "enable TLS 1.2 on the server (a CMG requires it; clients may disable older versions)",
				"no TLS 1.2 or 1.3 session with %s: %v", addr, err)
		} else {
			add("tls_handshake_failed", lint.Error, nil, "check the server's TLS configuration and certificate binding", "TLS handshake with %s failed: %v", addr, err)
		}
		return res, &EndpointError{URL: o.URL, Stage: "handshake", Err: err}
	}
	cs := conn.ConnectionState()
	res.TLSVersion, res.CipherSuite, res.ALPN = tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), cs.NegotiatedProtocol
	if res.ClientCertRequested && !res.ClientCertSent {
		add("client_cert_requested", lint.Notice, nil, "", "the server asked for a client certificate and none was given")
	}
	if len(presented) == 0 {
		add("no_certificate", lint.Error, nil, "bind a certificate to the site", "the server presented no certificate")
		return res, &EndpointError{URL: o.URL, Stage: "handshake", Err: errors.New("no certificate presented")}
	}
	for i, c := range presented {
		ss := isSelfIssued(c) && checkSelf(c)
		res.Presented = append(res.Presented, PresentedCert{Subject: certio.DN(c.RawSubject), Issuer: certio.DN(c.RawIssuer), Thumbprint: thumbprint(c), SelfSigned: ss})
		if i > 0 && !ss {
			res.SentIntermediates = true
		}
		if i > 0 && ss {
			add("root_sent", lint.Notice, nil, "", "the server sends the root %s; harmless: clients anchor on their own root store", displayName(c))
		}
		if i > 0 && !bytes.Equal(presented[i-1].RawIssuer, c.RawSubject) {
			add("presented_out_of_order", lint.Notice, nil, "send the chain leaf first, each certificate followed by its issuer",
				"certificate %d (%s) is not the issuer of certificate %d (%s); Windows reorders, some clients do not", i+1, displayName(c), i, displayName(presented[i-1]))
		}
	}

	co := o.ChainOptions
	co.Intermediates = append(append([]*x509.Certificate{}, presented[1:]...), o.Intermediates...)
	if co.Name == "" {
		co.Name = host
	}
	if len(co.Usages) == 0 {
		co.Usages = []OID{EKUServerAuth}
	}
	chain, cerr := ChainContext(ctx, presented[0], co)
	if chain == nil {
		return res, cerr
	}
	res.Chain = chain

	// Issuers the client had to find itself: in its store or over AIA.
	var fromClient []string
	for i, e := range chain.Elements {
		if i == 0 || e.TrustedAs == "root" || inChain(presented, e.Cert) {
			continue
		}
		fromClient = append(fromClient, displayName(e.Cert))
	}
	var ce *ChainError
	partial := errors.As(cerr, &ce) && ce.Reason == ReasonPartialChain
	switch {
	case partial:
		add("missing_intermediate", lint.Error, &WinChaining, "configure the server to send its intermediate CA certificate(s) with its certificate",
			"the server does not send the intermediate CA certificate(s) its certificate needs, and the client cannot find them: %s", ce.Detail)
	case len(fromClient) > 0:
		add("missing_intermediate", lint.Warn, nil, "configure the server to send its intermediate CA certificate(s) with its certificate",
			"the server does not send %s; this check found it in the client's store or over AIA, a client without it fails (CERT_E_CHAINING)", strings.Join(fromClient, ", "))
	}
	for _, w := range chain.Warnings {
		add(w.Code, lint.Warn, nil, "", "%s", w.Message)
	}
	for _, n := range chain.Notices {
		add(n.Code, lint.Notice, nil, "", "%s", n.Message)
	}
	// A partial chain is missing_intermediate's error above (the same
	// CERT_E_CHAINING, with the server-side fix), as verify cert reports it
	// once as e_chain_incomplete rather than also as chain_partial_chain.
	if ce != nil && !partial {
		win := ce.Windows
		add("chain_"+string(ce.Reason), lint.Error, &win, ce.Fix, "%s: %s (%s %s)", ce.Subject, ce.Detail, win.Name, win.HRESULT)
	}
	return res, cerr
}

// checkSelf reports whether c's signature verifies under its own key.
func checkSelf(c *x509.Certificate) bool {
	_, err := checkSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature, c)
	return err == nil
}
