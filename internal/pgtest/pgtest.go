// Package pgtest starts a real PostgreSQL cluster for tests, from the
// binaries of Debian's postgresql package (/usr/lib/postgresql/*/bin).
//
// Shared returns one cluster per test binary (started on first use) and
// NewDB a fresh database in it for each test; New starts a private cluster
// that a test may stop and start (a database outage). Clusters are
// initialised into a temporary directory as the unprivileged user
// "postgres" when the tests run as root, listen on 127.0.0.1 on a free port
// with their unix socket in the same directory, and are stopped
// (pg_ctl stop -m immediate) and removed afterwards: the shared one by a
// watcher process when the test binary exits, however it exits.
//
// Without PostgreSQL the tests skip, and fail under CI=true (.ci/run
// installs the package), as pkitest.OpenSSL does for openssl.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Password is the superuser's password in every test cluster. Clients get
// it as PGPASSWORD (see Env) or inside DSN; URL never holds it.
const Password = "cmgpki-test-only"

// Cluster is one running test cluster.
type Cluster struct {
	Bin  string // directory of initdb, pg_ctl, postgres
	Dir  string // temporary directory: data/, socket, log
	Port int
	User string // database superuser ("postgres")
	run  []string
}

// BinDir returns the newest /usr/lib/postgresql/*/bin holding initdb, or "".
func BinDir() string {
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(ms, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(ms[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(ms[j]))))
		return vi < vj
	})
	if len(ms) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		return ""
	}
	return filepath.Dir(ms[len(ms)-1])
}

func need(t testing.TB) string {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL is not installed; .ci/run must install the postgresql package")
		}
		t.Skip("PostgreSQL not installed (apt-get install postgresql)")
	}
	return bin
}

var (
	shared    *Cluster
	sharedErr error
	once      sync.Once
)

// Shared returns the test binary's cluster, starting it on first use.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	bin := need(t)
	once.Do(func() {
		shared, sharedErr = start(bin)
		if sharedErr == nil {
			sharedErr = shared.reapOnExit()
		}
	})
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// New starts a private cluster, stopped and removed when the test ends.
func New(t testing.TB) *Cluster {
	t.Helper()
	c, err := start(need(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(c.destroy)
	return c
}

func start(bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "cmgpki-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Bin: bin, Dir: dir, User: "postgres"}
	if os.Geteuid() == 0 {
		// initdb refuses root: run the server as the package's postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.run = []string{"runuser", "-u", "postgres", "--"}
	}
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o644); err != nil {
		return nil, err
	}
	if out, err := c.cmd("initdb", "-D", c.data(), "-U", c.User, "--pwfile", pw, "-E", "UTF8", "--no-locale",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := c.Start(); err != nil {
		c.destroy()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, c.run...), filepath.Join(c.Bin, name)), args...)
	return exec.Command(full[0], full[1:]...)
}

// Start starts the (stopped) cluster on its port and waits until it accepts
// connections.
func (c *Cluster) Start() error {
	// fsync off: test data need not survive a machine crash, and it keeps the
	// tests fast on a shared disk.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", c.Port, c.Dir)
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.Dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the cluster at once (-m immediate), as a crash would.
func (c *Cluster) Stop() error {
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

func (c *Cluster) destroy() {
	c.Stop()
	os.RemoveAll(c.Dir)
}

// reapOnExit starts a watcher that stops and removes the cluster once this
// test binary has exited (however it exits: the Go test runner has no hook
// after the last test of a package that needs no TestMain).
func (c *Cluster) reapOnExit() error {
	pgctl := strings.Join(append(append([]string{}, c.run...), filepath.Join(c.Bin, "pg_ctl")), " ")
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 0.5; done; %s -D %s -m immediate stop >/dev/null 2>&1; rm -rf %s`,
		os.Getpid(), pgctl, c.data(), c.Dir)
	w := exec.Command("sh", "-c", script)
	w.Stdin, w.Stdout, w.Stderr = nil, nil, nil
	return w.Start() // not waited for: it outlives this process
}

// URL is a postgres:// URL of database db without the password (give it as
// PGPASSWORD, see Env).
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.User, c.Port, db)
}

// DSN is URL with the password, for library tests that open a store directly.
func (c *Cluster) DSN(db string) string {
	u, _ := url.Parse(c.URL(db))
	u.User = url.UserPassword(c.User, Password)
	return u.String()
}

// Env is the environment a client process needs besides URL.
func (c *Cluster) Env() []string { return []string{"PGPASSWORD=" + Password} }

var seq atomic.Int64

var unsafe = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDB creates a fresh, empty database for t and drops it when t ends; it
// returns its name.
func (c *Cluster) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", seq.Add(1), unsafe.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	if len(name) > 60 {
		name = name[:60]
	}
	if err := c.Exec("postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { c.Exec("postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	return name
}

// Exec runs one statement in database db as the superuser.
func (c *Cluster) Exec(db, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(db))
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
