package handshake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/flow"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/verify"
)

// world is one scenario's deployment: the client's machine and the site's
// settings. Scenarios are edits of the default world.
type world struct {
	// Client machine.
	clientRoots []*x509.Certificate // local Trusted Root store (with the default public roots)
	noCRLCheck  bool                // ccmsetup /NoCRLCheck
	cmgHost     string              // the CMG name in CCMHOSTNAME
	pkiClient   *tls.Certificate    // a PKI client-auth certificate with its key, nil for none
	wpj         *tls.Certificate    // the WPJ device certificate, nil when not Entra-joined
	userSession bool                // an Entra user is signed in
	tenantID    string              // the device's tenant
	// sendExpiredFirst makes the client send its expired CCM token once
	// before renewing (the clock jumped while it slept).
	sendExpiredFirst bool
	// staleEntraToken makes the client present an Entra token past its
	// lifetime to CCM_STS (a cached token, or a clock off by hours).
	staleEntraToken bool

	// Entra.
	deviceTokens bool // the server app is enabled for device tokens

	// Site.
	siteCRLCheck     bool   // "Clients check the CRL for site systems"
	onboardedTenant  string // the tenant onboarded in ConfigMgr
	cmgCert          tls.Certificate
	cmgRoots         []*x509.Certificate // trusted root CAs uploaded to the CMG
	cmgIntermediates []*x509.Certificate // intermediates uploaded with them
	cmgClientRevoc   bool                // "Verify client certificate revocation"
	mpRoots          []*x509.Certificate // the MP machine's Trusted Root store
	cpRoots          []*x509.Certificate // the connection point's allowed roots
	cpStore          []cpCandidate       // the connection point's Personal store

	// Revocation.
	revoked        []*x509.Certificate // revoked in the store before the run
	revocationDown bool                // the CDP/OCSP host is unreachable from the client
}

type cpCandidate struct {
	cert   tls.Certificate
	hasKey bool
}

func defaultWorld(m *Materials) *world {
	w := &world{
		clientRoots: []*x509.Certificate{m.EnterpriseRoot, m.publicRoot},
		cmgHost:     m.CMGName, wpj: m.Device, userSession: true, tenantID: TenantID,
		deviceTokens: true, siteCRLCheck: true, onboardedTenant: TenantID,
		cmgCert: m.CMG, cmgRoots: []*x509.Certificate{m.EnterpriseRoot}, cmgIntermediates: m.Intermediates,
		cmgClientRevoc: true, mpRoots: []*x509.Certificate{m.EnterpriseRoot}, cpRoots: []*x509.Certificate{m.EnterpriseRoot},
		cpStore: []cpCandidate{{cert: m.CP, hasKey: true}},
	}
	if m.WPJRoot != nil {
		w.clientRoots = append(w.clientRoots, m.WPJRoot)
	}
	// Your own certificates (WithOwn): your roots join every store, and
	// your intermediates are uploaded to the CMG.
	w.clientRoots = append(w.clientRoots, m.extraRoots...)
	w.mpRoots = append(w.mpRoots, m.extraRoots...)
	w.cpRoots = append(w.cpRoots, m.extraRoots...)
	w.cmgRoots = append(w.cmgRoots, m.extraRoots...)
	w.cmgIntermediates = append(append([]*x509.Certificate(nil), w.cmgIntermediates...), m.extraInters...)
	return w
}

// env is one running simulation: clock, network, servers, logs.
type env struct {
	m       *Materials
	w       *world
	clk     *clock.Fake
	net     *network
	logs    *logBook
	servers []*server
	handler *crl.Handler
	store   crl.Store
	fetcher verify.Fetcher
	// siteFetcher is the site servers' (the MP's): it reaches the
	// revocation server even when the internet cannot (revocationDown).
	siteFetcher verify.Fetcher
	msgSeq      int
	// TLS session caches of the client and of the connection point:
	// resumed connections skip the server's signature, and the client
	// still judges every one in VerifyConnection.
	clientSessions, cpSessions tls.ClientSessionCache
	mu                         sync.Mutex
	// hops are the TLS connections made since the last step was recorded
	// (guarded by mu); the next step takes them.
	hops []flow.Hop
	// cpJudged is the MP's verdict on the connection point's client
	// certificate in the latest forwarded request (guarded by mu).
	cpJudged *verify.ChainResult
}

// start brings up the revocation server, the Entra token service, the MP
// and the CMG (with the connection point in-process behind it).
func start(ctx context.Context, m *Materials, w *world, at time.Time) (e *env, err error) {
	clk := clock.NewFake(at)
	e = &env{m: m, w: w, clk: clk, net: &network{addrs: map[string]string{}}, logs: &logBook{clk: clk},
		clientSessions: tls.NewLRUClientSessionCache(16), cpSessions: tls.NewLRUClientSessionCache(16)}
	defer func() {
		if err != nil {
			e.close()
			e = nil
		}
	}()
	e.fetcher = &verify.HTTPFetcher{Client: e.net.client(nil)}
	if err := e.startRevocation(ctx); err != nil {
		return e, err
	}
	entra := &tls.Config{Certificates: []tls.Certificate{m.entraTLS}, ClientAuth: tls.RequestClientCert}
	if err := e.serve(entraHost+":443", e.entraHandler(), entra); err != nil {
		return e, err
	}
	mp := &tls.Config{Certificates: []tls.Certificate{m.MP}, ClientAuth: tls.RequestClientCert}
	if err := e.serve(m.MPName+":443", e.mpHandler(), mp); err != nil {
		return e, err
	}
	cmg := &tls.Config{Certificates: []tls.Certificate{w.cmgCert}, ClientAuth: tls.RequestClientCert}
	if err := e.serve(m.CMGName+":443", e.cmgHandler(), cmg); err != nil {
		return e, err
	}
	if !strings.EqualFold(w.cmgHost, m.CMGName) {
		// Another name for the same CMG (a CNAME or a cloudapp.net name).
		e.net.set(w.cmgHost+":443", e.net.addrs[strings.ToLower(m.CMGName+":443")])
	}
	return e, nil
}

func (e *env) serve(hostport string, h http.Handler, tc *tls.Config) error {
	s, err := e.net.listen(hostport, h, tc, e.clk)
	if err != nil {
		return err
	}
	e.servers = append(e.servers, s)
	return nil
}

func (e *env) startRevocation(ctx context.Context) error {
	st := crl.NewMemStore()
	e.store = st
	for _, en := range e.m.entries {
		if en.IssuerName == en.Name {
			continue
		}
		s, err := crl.ParseSerial(en.Serial)
		if err != nil {
			return fmt.Errorf("handshake: manifest entry %s: %w", en.Name, err)
		}
		na, _ := time.Parse(time.RFC3339, en.NotAfter)
		if err := st.Record(ctx, crl.Record{Issuer: en.IssuerName, Serial: s, Subject: en.Subject, Role: en.Role, NotAfter: na}); err != nil {
			return fmt.Errorf("handshake: revocation store: %w", err)
		}
	}
	pc := e.m.publicCMG.Leaf
	if err := st.Record(ctx, crl.Record{Issuer: publicCAName, Serial: pc.SerialNumber, Subject: pc.Subject.String(), Role: "cmg-server", NotAfter: pc.NotAfter}); err != nil {
		return fmt.Errorf("handshake: revocation store: %w", err)
	}
	for _, c := range e.w.revoked {
		if _, _, err := st.Revoke(ctx, "", new(big.Int).Set(c.SerialNumber), e.clk.Now().Add(-time.Hour), 1); err != nil {
			return fmt.Errorf("handshake: revoke %s: %w", c.Subject, err)
		}
	}
	resp, err := crl.NewResponder(crl.ResponderConfig{Store: st, Clock: e.clk, Issuers: e.m.issuers})
	if err != nil {
		return fmt.Errorf("handshake: OCSP responder: %w", err)
	}
	e.handler = crl.NewHandler(crl.HandlerConfig{Responder: resp, Store: st, Clock: e.clk, Issuers: e.m.issuers, BasePath: strings.TrimSuffix(e.m.BaseURL.Path, "/")})
	// CRLs now; OCSP responses are signed on first request.
	u := &crl.Updater{Store: st, Clock: e.clk, Issuers: e.m.issuers, Handler: e.handler}
	if _, err := u.RunOnce(ctx); err != nil {
		return fmt.Errorf("handshake: CRLs: %w", err)
	}
	host := e.m.BaseURL.Host
	if e.m.BaseURL.Port() == "" {
		host = net.JoinHostPort(e.m.BaseURL.Hostname(), "80")
	}
	if err := e.serve(host, e.handler, nil); err != nil {
		return err
	}
	intranet := &network{addrs: map[string]string{strings.ToLower(host): e.net.addrs[strings.ToLower(host)]}}
	e.siteFetcher = &verify.HTTPFetcher{Client: intranet.client(nil)}
	if e.w.revocationDown {
		e.net.mu.Lock()
		delete(e.net.addrs, strings.ToLower(host))
		e.net.mu.Unlock()
	}
	return nil
}

// close stops every server and waits for them.
func (e *env) close() {
	for i := len(e.servers) - 1; i >= 0; i-- {
		e.servers[i].close()
	}
	e.servers = nil
	if e.handler != nil {
		e.handler.Close()
	}
	if e.store != nil {
		e.store.Close()
	}
}
