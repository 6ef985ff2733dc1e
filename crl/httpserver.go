package crl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Engine names the HTTP/1.1 server that carries a Handler.
type Engine string

const (
	// EngineFast is github.com/valyala/fasthttp with the OCSP routes answered
	// natively (ServeFastHTTP): the default of cmgpki serve, since it is
	// several times cheaper per request than net/http (bench/ocsp.sh).
	EngineFast Engine = "fasthttp"
	// EngineStd is the standard library's net/http server (ServeHTTP).
	EngineStd Engine = "net/http"
)

// Engines lists the engines in the order help texts show them.
var Engines = []Engine{EngineFast, EngineStd}

// ParseEngine returns the engine named s.
func ParseEngine(s string) (Engine, error) {
	for _, e := range Engines {
		if string(e) == s {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown HTTP engine %q (want %s or %s)", s, EngineFast, EngineStd)
}

// Server limits shared by both engines.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes = 16 << 10
)

// ServerConfig configures NewServer. Zero durations take the defaults above.
type ServerConfig struct {
	Engine Engine // "" is EngineFast
	// ReadTimeout bounds reading one request, headers and body (net/http
	// bounds the headers alone by ReadHeaderTimeout, fasthttp has no such
	// split); IdleTimeout bounds the wait for the next request on a
	// keep-alive connection.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ErrorLog receives the server's own errors (malformed requests it
	// refused before the handler, failed writes); nil discards them.
	ErrorLog io.Writer
}

// Server serves a Handler over plain HTTP/1.1 with one of the engines.
type Server struct {
	std  *http.Server
	fast *fasthttp.Server

	mu     sync.Mutex
	ln     net.Listener
	served chan struct{} // closed when fasthttp's Serve has returned
	closed bool          // Shutdown was called
}

// NewServer returns a server for h.
func NewServer(h *Handler, cfg ServerConfig) (*Server, error) {
	if cfg.Engine == "" {
		cfg.Engine = EngineFast
	}
	if _, err := ParseEngine(string(cfg.Engine)); err != nil {
		return nil, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = io.Discard
	}
	errs := log.New(cfg.ErrorLog, "", 0)
	if cfg.Engine == EngineStd {
		return &Server{std: &http.Server{Handler: h, ReadHeaderTimeout: min(DefaultReadHeaderTimeout, cfg.ReadTimeout),
			ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
			MaxHeaderBytes: MaxHeaderBytes, ErrorLog: errs}}, nil
	}
	return &Server{fast: &fasthttp.Server{
		Handler:      recovering(h.ServeFastHTTP, errs),
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		IdleTimeout:  cfg.IdleTimeout,
		// The request line and headers must fit in the read buffer (431
		// otherwise). net/http refuses a head over MaxHeaderBytes plus
		// 4096 bytes of bufio slop (Server.initialReadLimitSize): the same
		// limit, to the byte.
		ReadBufferSize:     MaxHeaderBytes + 4096,
		MaxRequestBodySize: MaxRequestBytes,
		// As net/http: no Server header, no Content-Type guessed, no
		// multipart parsing of a POST body.
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		// Idle workers are reaped every second, so that no goroutine of
		// the server outlives Shutdown by more than that. (fasthttp's Date
		// header comes from one process-wide goroutine started on the first
		// response, which never stops.)
		MaxIdleWorkerDuration: time.Second,
		// Keep-alive clients are told to go while the server drains.
		CloseOnShutdown:       true,
		SecureErrorLogMessage: true,
		Logger:                fastLogger{errs},
		ErrorHandler:          h.fastError,
	}}, nil
}

// recovering runs next and, as net/http's server does, turns a panic into
// the loss of that one connection: the panic and its stack go to errs, the
// connection is closed without an answer, and the server goes on (fasthttp
// itself does not recover, so a panic would end the process).
func recovering(next fasthttp.RequestHandler, errs *log.Logger) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					buf := make([]byte, 64<<10)
					errs.Printf("http: panic serving %v: %v\n%s", ctx.RemoteAddr(), v, buf[:runtime.Stack(buf, false)])
				}
				ctx.Response.Reset()
				ctx.SetConnectionClose()
				ctx.Conn().Close()
			}
		}()
		next(ctx)
	}
}

// fastLogger passes on fasthttp's log lines but those about one connection
// ("error when serving connection ...": a malformed request, which the
// client has already been answered 400 for, or a reset): net/http logs
// nothing for them, and a client could otherwise write as much to stderr as
// it sends. What remains (accept errors, the connection limit) is cut at
// 300 bytes.
type fastLogger struct{ l *log.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(msg, "error when serving connection") {
		return
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	f.l.Print(msg)
}

// Serve accepts connections on ln until Shutdown; it returns nil after
// Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.fast != nil {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			ln.Close()
			return nil
		}
		served := make(chan struct{})
		s.ln, s.served = ln, served
		s.mu.Unlock()
		err := s.fast.Serve(ln)
		close(served)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil
		}
		return err
	}
	if err := s.std.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, lets requests in progress finish, closes idle
// connections and returns when all are closed or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.fast == nil {
		return s.std.Shutdown(ctx)
	}
	s.mu.Lock()
	s.closed = true
	ln, served := s.ln, s.served
	s.mu.Unlock()
	if ln == nil {
		return nil // Serve has not run; if it does, it returns at once
	}
	// fasthttp's Shutdown does nothing to a listener its Serve has not
	// registered yet, and Serve may be just about to: so the listener is
	// closed first, and fasthttp is asked to drain only once its Serve has
	// returned (and so had registered every connection it accepted).
	ln.Close()
	select {
	case <-served:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := s.fast.ShutdownWithContext(ctx)
	if errors.Is(err, net.ErrClosed) {
		err = nil // the listener closed above
	}
	return err
}
