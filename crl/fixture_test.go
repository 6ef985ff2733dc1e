package crl

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// server starts the full revocation service on a loopback port.
func (fx *fixture) server(t testing.TB) (*httptest.Server, *Handler, *Updater, *Responder) {
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
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv, h, u, resp
}

var zero = 0

// labSpecNoLeaves makes only the standard leaves, no clients or devices.
var labSpecNoLeaves = ca.LabSpec{Clients: &zero, Devices: &zero}

var readFile = os.ReadFile
