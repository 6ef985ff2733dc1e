package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ocsp"

	"github.com/cmgpki/cmgpki/crl"
	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
)

func addRevocationCmds(root *cobra.Command, f *Factory) {
	root.AddCommand(newRevokeCmd(f, false), newRevokeCmd(f, true), newCRLCmd(f), newServeCmd(f), newStoreCmd(f))
}

type revokeOptions struct {
	lab, serial, cert, reason, issuer, output, store string
	hold                                             bool
}

// revokeView is the JSON result of revoke and unrevoke (schema cmgpki/revoke/v1).
type revokeView struct {
	Schema    string `json:"schema"`
	Issuer    string `json:"issuer"`
	Serial    string `json:"serial"`
	Subject   string `json:"subject"`
	Role      string `json:"role"`
	Status    string `json:"status"` // good | revoked
	RevokedAt string `json:"revoked_at,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Unchanged bool   `json:"unchanged"` // already in the requested state
}

func newRevokeCmd(f *Factory, unrevoke bool) *cobra.Command {
	o := &revokeOptions{}
	use, short := "revoke", "revoke a lab certificate (recorded in the lab's store; CRL and OCSP follow)"
	long := `Revoke a certificate of the lab by serial or by certificate file, with an RFC 5280
reason. Revoking twice is idempotent and says so. A running "cmgpki serve" on the
same lab publishes the change (new CRL, re-signed OCSP) within its poll interval;
otherwise run "cmgpki crl --lab DIR". --hold uses certificateHold, which
"cmgpki unrevoke" can release; any other reason is final (RFC 5280).

Reasons: unspecified, keyCompromise, cACompromise, affiliationChanged,
superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.

`
	example := `  # put client01 on hold ("cmgpki unrevoke" releases it), then revoke device01 for good
  cmgpki revoke --lab cmg-lab --cert cmg-lab/certs/client01.crt --hold
  cmgpki revoke --lab cmg-lab --cert cmg-lab/certs/device01.crt --reason keyCompromise
  # SERIAL: a serial in hex, as in manifest.json or the Note of "issue --force"
  cmgpki revoke --lab cmg-lab --serial SERIAL --reason superseded --output json`
	if unrevoke {
		use, short = "unrevoke", "release a certificateHold (revoke --hold)"
		long = "Release a certificate put on hold with \"cmgpki revoke --hold\". Other revocations are final.\n\n"
		example = `  # release the hold of "cmgpki revoke --lab cmg-lab --cert cmg-lab/certs/client01.crt --hold"
  cmgpki unrevoke --lab cmg-lab --cert cmg-lab/certs/client01.crt
  # SERIAL: the serial in hex of a certificate on hold, as in manifest.json
  cmgpki unrevoke --lab cmg-lab --serial SERIAL`
	}
	c := &cobra.Command{
		Use: use + " --lab DIR (--serial HEX | --cert FILE)", Short: short, Long: long + exitCodesHelp(runCodes...), Example: example, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkHoldReason(c, o); err != nil {
				return err
			}
			return runRevoke(c.Context(), f, o, unrevoke)
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.lab, "lab", "", "lab directory (required)")
	fl.StringVar(&o.serial, "serial", "", "serial number in hex (as in manifest.json; colons allowed)")
	fl.StringVar(&o.cert, "cert", "", "certificate file (PEM or DER) instead of --serial")
	fl.StringVar(&o.issuer, "issuer", "", "CA name, only needed if two CAs issued the same serial")
	if !unrevoke {
		fl.StringVar(&o.reason, "reason", "unspecified", "RFC 5280 reason name")
		fl.BoolVar(&o.hold, "hold", false, "put on hold (certificateHold, the same as --reason certificateHold), which unrevoke can release; not with another --reason")
	}
	addStoreFlag(c, &o.store)
	addOutputFlag(c, &o.output)
	return c
}

// checkHoldReason refuses --hold with a --reason other than certificateHold:
// a hold is the reason certificateHold, so the other reason would be dropped.
func checkHoldReason(c *cobra.Command, o *revokeOptions) error {
	if !o.hold || !c.Flags().Changed("reason") {
		return nil
	}
	r, err := crl.ParseReason(o.reason)
	if err != nil {
		return usageErr(fmt.Errorf("--reason: %w", err))
	}
	if r != ocsp.CertificateHold {
		return usageErr(fmt.Errorf("--hold and --reason %s are exclusive (hold is certificateHold, which unrevoke can release; %s is final)", o.reason, o.reason))
	}
	return nil
}

func runRevoke(ctx context.Context, f *Factory, o *revokeOptions, unrevoke bool) error {
	if err := outputFormat(o.output); err != nil {
		return err
	}
	if o.lab == "" {
		return &UsageError{Err: errors.New("--lab is required"), ShowUsage: true}
	}
	if (o.serial == "") == (o.cert == "") {
		return &UsageError{Err: errors.New("give exactly one of --serial and --cert"), ShowUsage: true}
	}
	var serial *big.Int
	var err error
	if o.cert != "" {
		c, err := certio.ReadCertificate(o.cert)
		if err != nil {
			return usageErr(fmt.Errorf("--cert: %w", err))
		}
		serial = c.SerialNumber
	} else if serial, err = crl.ParseSerial(o.serial); err != nil {
		return usageErr(fmt.Errorf("--serial: %w", err))
	}
	reason := ocsp.CertificateHold
	if !unrevoke && !o.hold {
		if reason, err = crl.ParseReason(o.reason); err != nil {
			return usageErr(fmt.Errorf("--reason: %w", err))
		}
	}
	notInLab := usageErr(fmt.Errorf("serial %s is not a certificate of lab %s (see manifest.json)", crl.SerialHex(serial), o.lab))
	loc, err := resolveStore(f, o.store, o.lab)
	if err != nil {
		return err
	}
	if known, err := labKnowsSerial(o.lab, loc, o.issuer, serial); err != nil {
		return err
	} else if !known {
		return notInLab // checked before the store is opened, so nothing is created
	}
	st, _, err := openLabStore(ctx, o.lab, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	var rec crl.Record
	var unchanged bool
	if unrevoke {
		before, gerr := st.Get(ctx, o.issuer, serial)
		if gerr == nil {
			unchanged = before.Status == crl.Good
		}
		rec, err = st.Unrevoke(ctx, o.issuer, serial)
	} else {
		rec, unchanged, err = st.Revoke(ctx, o.issuer, serial, f.Clock.Now(), reason)
	}
	if errors.Is(err, crl.ErrFinal) {
		return usageErr(err)
	}
	if errors.Is(err, crl.ErrNotFound) {
		return notInLab
	}
	if err != nil {
		if crl.IsUnavailable(err) {
			return fmt.Errorf("the revocation store became unreachable; the change may not have been made (run the command again: it is idempotent): %w", err)
		}
		return err
	}
	v := revokeView{Schema: "cmgpki/revoke/v1", Issuer: rec.Issuer, Serial: crl.SerialHex(rec.Serial), Subject: rec.Subject,
		Role: rec.Role, Status: "good", Unchanged: unchanged}
	if rec.Status == crl.Revoked {
		v.Status, v.RevokedAt, v.Reason = "revoked", rec.RevokedAt.Format(time.RFC3339), crl.ReasonName(rec.Reason)
	}
	if o.output == "json" {
		if err := renderJSON(f.IO.Out, v); err != nil {
			return err
		}
	} else if err := renderTable(f, revokeColumns,
		[][]string{{v.Issuer, v.Serial, v.Subject, v.Role, v.Status, v.RevokedAt, v.Reason}}); err != nil {
		return err
	}
	switch {
	case unchanged && unrevoke:
		f.notef("%s was not revoked; nothing changed", v.Serial)
	case unchanged:
		f.notef("%s was already revoked at %s (%s); nothing changed", v.Serial, v.RevokedAt, v.Reason)
	default:
		fmt.Fprintf(f.IO.ErrOut, "Next: a running \"cmgpki serve --lab %s\" publishes this within its poll interval; without one, run \"cmgpki crl --lab %s\"\n", o.lab, o.lab)
	}
	return nil
}

type crlOptions struct {
	lab, keyPasswordFile, output, store string
	validity                            time.Duration
}

func newCRLCmd(f *Factory) *cobra.Command {
	o := &crlOptions{}
	c := &cobra.Command{
		Use:   "crl --lab DIR",
		Short: "sign a CRL for every CA of the lab and write it under DIR/crl/",
		Long: `Sign a CRL for every CA of the lab from its revocation store: entries sorted
by serial, a strictly increasing CRL number, thisUpdate now and nextUpdate
now + --validity, an IssuingDistributionPoint equal to the certificates' CDP,
signed by the CA itself (Windows rejects CRLs signed by a separate CRL-signing
certificate). Each CRL is parsed back and checked (signature, number, IDP)
before it is written, as DIR/crl/NAME.crl (DER) and NAME.pem, and kept in
the lab's store, from which a running "cmgpki serve" serves it within its poll.

` + exitCodesHelp(runCodes...),
		Example: "  cmgpki crl --lab cmg-lab\n  cmgpki crl --lab cmg-lab --validity 24h --output json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := outputFormat(o.output); err != nil {
				return err
			}
			if o.lab == "" {
				return &UsageError{Err: errors.New("--lab is required"), ShowUsage: true}
			}
			if o.validity < time.Hour {
				return usageErr(fmt.Errorf("--validity %s: at least 1h", o.validity))
			}
			kp, err := f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD")
			if err != nil {
				return err
			}
			issuers, _, err := labIssuers(o.lab, kp, f.secretSource("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD"))
			if err != nil {
				return err
			}
			loc, err := resolveStore(f, o.store, o.lab)
			if err != nil {
				return err
			}
			st, _, err := openLabStore(c.Context(), o.lab, loc)
			if err != nil {
				return err
			}
			defer st.Close()
			u := &crl.Updater{Store: st, Clock: f.Clock, Issuers: issuers, Validity: o.validity, PublishDir: filepath.Join(o.lab, "crl"), SignAll: true}
			made, err := u.RunOnce(c.Context())
			if err != nil {
				return err
			}
			return renderCRLs(f, made, o.output)
		},
	}
	c.Flags().StringVar(&o.lab, "lab", "", "lab directory (required)")
	c.Flags().DurationVar(&o.validity, "validity", crl.DefaultCRLValidity, "nextUpdate - thisUpdate")
	c.Flags().StringVar(&o.keyPasswordFile, "key-password-file", "", "password of encrypted lab keys (or $CMGPKI_KEY_PASSWORD)")
	addStoreFlag(c, &o.store)
	addOutputFlag(c, &o.output)
	return c
}

func renderCRLs(f *Factory, cs []*crl.CRL, output string) error {
	if output == "json" {
		return renderJSON(f.IO.Out, map[string]any{"schema": "cmgpki/crl/v1", "crls": cs})
	}
	var rows [][]string
	for _, c := range cs {
		rows = append(rows, []string{c.Issuer, c.Number.String(), c.ThisUpdate.Format(time.RFC3339), c.NextUpdate.Format(time.RFC3339), fmt.Sprint(c.Entries), c.File})
	}
	return renderTable(f, crlColumns, rows)
}

type serveOptions struct {
	lab, listen, keyPasswordFile, store string
	engine                              string
	crlValidity, ocspValidity           time.Duration
	poll                                time.Duration
}

func newServeCmd(f *Factory) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve --lab DIR [--listen 127.0.0.1:8080]",
		Short: "serve the lab's CRLs, CA certificates and OCSP over HTTP at the URLs in its certificates",
		Long: `Serve, over plain HTTP as Windows expects for CDP/AIA/OCSP:
  GET  /crl/NAME.crl       the CA's current CRL (application/pkix-crl; ETag, 304)
  GET  /ca/NAME.cer        the CA certificate (AIA caIssuers)
  POST /ocsp               OCSP, RFC 6960
  GET  /ocsp/{base64}      OCSP, RFC 5019
  GET  /healthz            status as JSON
OCSP responses are pre-signed and cached (re-signed when a record changes or
at half their validity), signed by the CA or by its delegated ocsp-signer if
the lab has one. CRLs are regenerated before two thirds of their validity and
within --poll of a revocation made by another process ("cmgpki revoke");
a newer CRL signed by "cmgpki crl" is served (and is on disk) within --poll.
The listener is opened first: a server that cannot listen writes nothing.
Each request is logged on stderr. SIGINT or SIGTERM shuts down gracefully.
The HTTP server is fasthttp by default (OCSP answered without net/http's
per-request cost: 1.5-1.7x its throughput, see bench/ocsp.sh); --engine
net/http serves the same answers with Go's standard server.

The certificates carry the lab's base URL; --listen must be where that URL
reaches (by default both are 127.0.0.1:8080).

Several instances (behind a load balancer at the base URL) share one
PostgreSQL store: --store postgres://USER@HOST/DB (or $CMGPKI_STORE; the
password from PGPASSWORD or ~/.pgpass). A change made anywhere is announced
by the database (LISTEN/NOTIFY) and served by every instance within a second
(--poll while the notification connection is down); one instance at a time
signs CRLs (an advisory lock) and the others serve the CRL it stored. If the
database goes away, instances keep serving their cached CRLs and OCSP
responses, /healthz says "degraded", and they reconnect by themselves.

` + exitCodesHelp(runCodes...),
		Example: "  cmgpki serve --lab cmg-lab\n  cmgpki serve --lab cmg-lab --listen 0.0.0.0:80 --poll 1s\n  cmgpki serve --lab cmg-lab --crl-validity 24h --ocsp-validity 1h",
		Args:    noArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runServe(c.Context(), f, o, nil) },
	}
	fl := c.Flags()
	fl.StringVar(&o.lab, "lab", "", "lab directory (required)")
	fl.StringVar(&o.listen, "listen", "", "address to listen on (default: the host and port of the lab's base URL)")
	fl.DurationVar(&o.crlValidity, "crl-validity", crl.DefaultCRLValidity, "CRL nextUpdate - thisUpdate")
	fl.DurationVar(&o.ocspValidity, "ocsp-validity", crl.DefaultOCSPValidity, "OCSP response nextUpdate - thisUpdate")
	fl.DurationVar(&o.poll, "poll", 2*time.Second, "how often to look for revocations made by other processes")
	fl.StringVar(&o.keyPasswordFile, "key-password-file", "", "password of encrypted lab keys (or $CMGPKI_KEY_PASSWORD)")
	fl.StringVar(&o.engine, "engine", string(crl.EngineFast), "HTTP server: fasthttp or net/http (same answers; fasthttp is faster)")
	addStoreFlag(c, &o.store)
	return c
}

// runServe serves until ctx ends. ready, when set, receives the listening
// address (tests use port 0).
func runServe(ctx context.Context, f *Factory, o *serveOptions, ready chan<- string) error {
	if o.lab == "" {
		return &UsageError{Err: errors.New("--lab is required"), ShowUsage: true}
	}
	if o.poll < 100*time.Millisecond || o.crlValidity < time.Hour || o.ocspValidity < time.Minute {
		return usageErr(fmt.Errorf("--poll must be >= 100ms, --crl-validity >= 1h, --ocsp-validity >= 1m"))
	}
	if o.engine == "" {
		o.engine = string(crl.EngineFast)
	}
	engine, err := crl.ParseEngine(o.engine)
	if err != nil {
		return usageErr(fmt.Errorf("--engine: %w", err))
	}
	loc, err := resolveStore(f, o.store, o.lab)
	if err != nil {
		return err
	}
	kp, err := f.secret("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD")
	if err != nil {
		return err
	}
	issuers, ld, err := labIssuers(o.lab, kp, f.secretSource("--key-password-file", o.keyPasswordFile, "CMGPKI_KEY_PASSWORD"))
	if err != nil {
		return err
	}
	base, err := url.Parse(ld.Manifest.BaseURL)
	if err != nil {
		return fmt.Errorf("%s: base_url: %w", o.lab, err)
	}
	// The listener comes first: a server that cannot listen writes nothing
	// (no store, no CRL, no CRL number used up). Connections that arrive
	// while the CRLs are made wait in the listen backlog.
	listen, from := o.listen, "--listen "+o.listen
	if listen == "" {
		listen = base.Host
		if base.Port() == "" {
			listen += ":80"
		}
		from = "lab base URL " + ld.Manifest.BaseURL
	}
	if err := checkListenAddr(listen); err != nil {
		if o.listen == "" {
			return usageErr(fmt.Errorf("%s: %s: %w (give --listen)", filepath.Join(o.lab, lab.ManifestFile), from, err))
		}
		return usageErr(fmt.Errorf("--listen %q: %w", o.listen, err))
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) && dns.IsNotFound {
			return usageErr(fmt.Errorf("%s: %w", from, err))
		}
		return fmt.Errorf("%s: %w", from, err) // in use, no permission: operational
	}
	serving := false
	defer func() {
		if !serving {
			ln.Close()
		}
	}()
	st, _, err := openLabStore(ctx, o.lab, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	resp, err := crl.NewResponder(crl.ResponderConfig{Store: st, Clock: f.Clock, Issuers: issuers, Validity: o.ocspValidity})
	if err != nil {
		return err
	}
	h := crl.NewHandler(crl.HandlerConfig{Responder: resp, Store: st, Clock: f.Clock, Issuers: issuers, BasePath: base.Path, AccessLog: f.IO.ErrOut})
	// CRLs before serving (clients need them at once); OCSP pre-signing of
	// every known certificate runs in the background once serving, and
	// until it is done a response is signed on first request.
	u := &crl.Updater{Store: st, Clock: f.Clock, Issuers: issuers, Validity: o.crlValidity,
		PublishDir: filepath.Join(o.lab, "crl"), Handler: h, Log: f.IO.ErrOut}
	wake := sharedStore(ctx, f, st, u, o.poll)
	if _, err := u.RunOnce(ctx); err != nil {
		return err
	}
	serving = true
	// The hot path allocates little, but at tens of thousands of requests a
	// second GC pauses show in p99; trade some memory (a few MB here) for
	// fewer collections.
	debug.SetGCPercent(400)
	srv, err := crl.NewServer(h, crl.ServerConfig{Engine: engine, ErrorLog: prefixWriter{"Warning: http: ", f.IO.ErrOut}})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Serving lab %s on http://%s with %s (certificates point at %s); Ctrl-C stops\n", o.lab, ln.Addr(), engine, ld.Manifest.BaseURL)
	basePort := base.Port()
	if basePort == "" {
		basePort = "80"
	}
	if _, port, _ := net.SplitHostPort(ln.Addr().String()); port != basePort {
		fmt.Fprintf(f.IO.ErrOut, "Warning: the certificates' URLs point at %s, but this server listens on port %s; clients reach it only through a forward\n", ld.Manifest.BaseURL, port)
	}
	go func() {
		start := time.Now()
		n, err := resp.Refresh(ctx)
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "Warning: pre-signing OCSP responses: %v\n", err)
		} else {
			fmt.Fprintf(f.IO.ErrOut, "Note: pre-signed %d OCSP responses in %s\n", n, time.Since(start).Round(time.Millisecond))
		}
		u.Responder = resp // from now on every update refreshes OCSP too
		u.RunWoken(ctx, o.poll, wake)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		h.Close()
		if err == nil {
			err = errors.New("the listener closed")
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	h.Close() // flush the access log
	fmt.Fprintln(f.IO.ErrOut, "Note: server stopped")
	return err
}

// prefixWriter writes each Write (one log line) after a prefix.
type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// sharedStore prepares serve for a store shared with other instances
// (PostgreSQL): CRLs are signed only while this instance holds the signing
// lock (or has no CRL at all yet), and the returned channel wakes the
// updater on every change announced by the database, so a revocation made
// anywhere is served here within a second; --poll stays the fallback while
// the notification connection is down. For a SQLite store it returns nil.
func sharedStore(ctx context.Context, f *Factory, st crl.Store, u *crl.Updater, poll time.Duration) <-chan struct{} {
	pg, ok := st.(*crl.PostgresStore)
	if !ok {
		return nil
	}
	u.MaySign = func(ctx context.Context) bool {
		ok, err := pg.TrySigning(ctx)
		return ok && err == nil
	}
	wake := make(chan struct{}, 1)
	var was *bool
	go pg.Watch(ctx, wake, poll, func(up bool, err error) {
		if was != nil && *was == up {
			return
		}
		was = &up
		if up {
			fmt.Fprintf(f.IO.ErrOut, "Note: listening for changes in the store\n")
		} else {
			fmt.Fprintf(f.IO.ErrOut, "Warning: lost the store's change notifications (polling every %s until they are back): %v\n", poll, err)
		}
	})
	return wake
}

// checkListenAddr checks the syntax of a listen address, HOST:PORT, where
// HOST is empty, an IP address or a DNS name, so a typo is an input error
// before anything is resolved or bound.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT, for example 127.0.0.1:8080: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host == "" || net.ParseIP(strings.SplitN(host, "%", 2)[0]) != nil {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", host)
	}
	for _, l := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		ok := len(l) > 0 && len(l) <= 63 && l[0] != '-' && l[len(l)-1] != '-'
		for _, r := range l {
			ok = ok && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}
		if !ok {
			return fmt.Errorf("host %q is not an IP address or DNS name (label %q)", host, l)
		}
	}
	return nil
}
