package crl

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/clock"
	"github.com/cmgpki/cmgpki/internal/labtest"
	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lab"
)

// fixture is a real lab with its certificates recorded in a store.
type fixture struct {
	lab     *ca.Lab
	dir     *lab.Dir // the same lab, read through the lab contract
	store   Store
	issuers []Issuer
	clk     *clock.Fake
}

func newFixture(t testing.TB, base string, store Store, spec *ca.LabSpec) *fixture {
	t.Helper()
	l := labtest.Lab(t, base, spec)
	ld, err := lab.Open(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{lab: l, dir: ld, store: store, clk: clock.NewFake(pkitest.At)}
	ctx := context.Background()
	for _, e := range ld.Manifest.All() {
		if e.IssuerName == e.Name {
			continue
		}
		serial, _ := ParseSerial(e.Serial)
		na, _ := time.Parse(time.RFC3339, e.NotAfter)
		if err := store.Record(ctx, Record{Issuer: e.IssuerName, Serial: serial, Subject: e.Subject, Role: e.Role, NotAfter: na}); err != nil {
			t.Fatal(err)
		}
	}
	lis, err := ld.Issuers(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range lis {
		fx.issuers = append(fx.issuers, Issuer(x))
	}
	return fx
}

func (fx *fixture) cert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	c, err := fx.dir.Certificate(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (fx *fixture) issuer(name string) Issuer {
	for _, i := range fx.issuers {
		if i.Name == name {
			return i
		}
	}
	panic("no issuer " + name)
}

// liveServer is the revocation service on a loopback port.
type liveServer struct{ URL string }

// server starts the full revocation service on a loopback port with the
// default engine (the one cmgpki serve uses).
func (fx *fixture) server(t testing.TB) (*liveServer, *Handler, *Updater, *Responder) {
	return fx.serverWith(t, EngineFast)
}

// serverWith starts the full revocation service on a loopback port, on eng.
func (fx *fixture) serverWith(t testing.TB, eng Engine) (*liveServer, *Handler, *Updater, *Responder) {
	t.Helper()
	resp, err := NewResponder(ResponderConfig{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerConfig{Responder: resp, Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
	u := &Updater{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers, Handler: h, Responder: resp,
		PublishDir: filepath.Join(fx.lab.Dir, "crl")}
	if _, err := u.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return startServer(t, h, ServerConfig{Engine: eng}), h, u, resp
}

// startServer serves h on a loopback port until the test ends (see serve
// in engine_test.go).
func startServer(t testing.TB, h *Handler, cfg ServerConfig) *liveServer {
	t.Helper()
	return &liveServer{URL: "http://" + serve(t, cfg.Engine, h, cfg).addr}
}

// forEngines runs f as a subtest for each engine.
func forEngines(t *testing.T, f func(t *testing.T, eng Engine)) {
	for _, eng := range Engines {
		t.Run(strings.ReplaceAll(string(eng), "/", "_"), func(t *testing.T) { f(t, eng) })
	}
}

var zero = 0

// labSpecNoLeaves makes only the standard leaves, no clients or devices.
var labSpecNoLeaves = ca.LabSpec{Clients: &zero, Devices: &zero}

var readFile = os.ReadFile
