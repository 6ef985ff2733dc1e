package crl

import (
	"bufio"
	"context"
	"crypto"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// panickyStore panics, once armed, in Generation (so /healthz, served
// through ServeHTTP, panics) and in Get of one serial (so an OCSP request
// for it, answered on fasthttp's native path on a cache miss, panics).
type panickyStore struct {
	Store
	armed  atomic.Bool
	serial *big.Int
}

func (s *panickyStore) Generation(ctx context.Context) (int64, error) {
	if s.armed.Load() {
		panic("crl test: store bug in Generation")
	}
	return s.Store.Generation(ctx)
}

func (s *panickyStore) Get(ctx context.Context, issuer string, serial *big.Int) (Record, error) {
	if s.armed.Load() && serial.Cmp(s.serial) == 0 {
		panic("crl test: store bug in Get")
	}
	return s.Store.Get(ctx, issuer, serial)
}

// TestEnginesSurviveHandlerPanic: a panic while one request is answered
// (here a store bug) costs that request, not the server. net/http's server
// recovers a handler's panic per request and goes on serving; fasthttp's
// server does not recover, and fasthttpadaptor re-panics a net/http
// handler's panic on the server's goroutine, so on EngineFast one bad
// request ends the process. Each engine runs in a child process (the test
// binary again), since an unrecovered panic ends the process it is in.
func TestEnginesSurviveHandlerPanic(t *testing.T) {
	if eng := os.Getenv("CRL_TEST_PANIC_ENGINE"); eng != "" {
		panicChild(t, Engine(eng))
		return
	}
	forEngines(t, func(t *testing.T, eng Engine) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnginesSurviveHandlerPanic$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "CRL_TEST_PANIC_ENGINE="+string(eng))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "still serving after both panics") {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Errorf("%s: the server process did not survive a handler panic (%v); its output begins:\n%s", eng, err, strings.Join(lines[:min(len(lines), 12)], "\n"))
		}
	})
}

// panicChild serves on eng with a store that panics, sends a request
// through ServeHTTP (/healthz) and one through the native OCSP path (POST
// /ocsp, cache miss), and requires an answer to a third request after them.
func panicChild(t *testing.T, eng Engine) {
	var ps *panickyStore
	rig := newEngineRig(t, func(s Store) Store {
		ps = &panickyStore{Store: s, serial: big.NewInt(0xdead)}
		return ps
	})
	s := serve(t, eng, rig.handler("", nil), ServerConfig{})
	ps.armed.Store(true)
	for _, raw := range []string{rawGet(http.MethodGet, "/healthz"), rawPost("/ocsp", rig.unknownReq(t, 0xdead))} {
		c := s.dial(t)
		io.WriteString(c, raw)
		b, _ := io.ReadAll(bufio.NewReader(c)) // net/http closes the connection without an answer
		c.Close()
		t.Logf("%s: %s: %q", eng, firstLine(raw), firstLine(string(b)))
	}
	resp, body := s.roundTrip(t, rawGet(http.MethodGet, getTarget(rig.req(t, crypto.SHA1))), http.MethodGet)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("%s: after the panics: HTTP %d", eng, resp.StatusCode)
	}
	t.Logf("%s: still serving after both panics", eng)
}
