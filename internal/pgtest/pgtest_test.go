package pgtest

import (
	"os"
	"testing"
)

// TestSharedCluster: the cluster runs as an unprivileged user in a temporary
// directory and gives each test its own database.
func TestSharedCluster(t *testing.T) {
	c := Shared(t)
	a, b := c.NewDB(t), c.NewDB(t)
	if a == b {
		t.Fatalf("two tests share database %s", a)
	}
	if err := c.Exec(a, "CREATE TABLE x (n int)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(b, "SELECT * FROM x"); err == nil {
		t.Error("a table of one test's database is visible in another's")
	}
	if os.Geteuid() == 0 {
		if err := c.Exec(a, "SELECT 1 WHERE current_setting('data_directory') <> ''"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPrivateClusterStopStart: a private cluster can be stopped and started.
func TestPrivateClusterStopStart(t *testing.T) {
	c := New(t)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec("postgres", "SELECT 1"); err == nil {
		t.Fatal("a stopped cluster answered")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec("postgres", "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}
