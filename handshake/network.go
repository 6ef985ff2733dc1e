package handshake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cmgpki/cmgpki/internal/clock"
)

// network maps real host:port names to loopback listeners, as DNS would.
type network struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (n *network) set(hostport, addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addrs[strings.ToLower(hostport)] = addr
}

// dial resolves addr through the map; an unmapped name fails like a name
// that does not resolve.
func (n *network) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	n.mu.Lock()
	a, ok := n.addrs[strings.ToLower(addr)]
	n.mu.Unlock()
	if !ok {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host (not reachable in this scenario)", Name: host, IsNotFound: true}}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", a)
}

// client returns an HTTP client dialling through the map; every connection
// is closed after its request, so a run leaves nothing open.
func (n *network) client(tc *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: n.dial, TLSClientConfig: tc, DisableKeepAlives: true, ForceAttemptHTTP2: false,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// server is one component's listener.
type server struct {
	name string
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// listen starts h on 127.0.0.1:0, over TLS when tc is set, and maps
// hostport to it.
func (n *network) listen(hostport string, h http.Handler, tc *tls.Config, clk clock.Clock) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("handshake: listen for %s: %w", hostport, err)
	}
	s := &server{name: hostport, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}}
	s.srv.SetKeepAlivesEnabled(false)
	if tc != nil {
		tc.Time = clk.Now
		tc.MinVersion = tls.VersionTLS12
		ln = tls.NewListener(ln, tc)
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is closed by close
		}
	}()
	n.set(hostport, s.ln.Addr().String())
	return s, nil
}

func (s *server) close() {
	s.srv.Close()
	<-s.done
}
