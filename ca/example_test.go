package ca_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/internal/clock"
)

// A whole default lab, with a pinned clock.
func ExampleCreateLab() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	none := 0
	m, err := ca.CreateLab(context.Background(), &ca.LabSpec{Domain: "fabrikam.com", Devices: &none},
		ca.LabOptions{Out: filepath.Join(dir, "lab"), Clock: clock.Fixed(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range append(m.CAs, m.Certificates...) {
		fmt.Println(e.Role, e.Subject, e.NotAfter)
	}
	// Output:
	// root-ca CN=fabrikam.com Lab Root CA 2036-11-18T23:50:00Z
	// issuing-ca CN=fabrikam.com Lab Issuing CA 2031-11-20T23:50:00Z
	// cmg-server CN=cmg.fabrikam.com 2027-11-21T23:50:00Z
	// mp-https CN=mp.fabrikam.com 2027-11-21T23:50:00Z
	// cmg-connection-point CN=cmgcp01.corp.fabrikam.com 2027-11-21T23:50:00Z
	// pki-client CN=client01.fabrikam.com 2027-11-21T23:50:00Z
}
