package ca

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
)

func TestExampleSpec(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	spec, err := ReadSpec(filepath.Join(filepath.Dir(file), "..", "testdata", "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, m := makeLab(t, spec, LabOptions{})
	var names []string
	for _, e := range m.Certificates {
		names = append(names, e.Name)
	}
	want := []string{"cmg-server", "mp-https", "cmg-connection-point", "client01", "client02", "client03", "device01", "device02", "sup01", "ocsp-responder"}
	if !slices.Equal(names, want) {
		t.Fatalf("certificates %v, want %v", names, want)
	}
	cmg, _ := m.Find("cmg-server")
	if cmg.Subject != "CN=granitefalls.fabrikam.com" || m.BaseURL != "http://pki.fabrikam.com" || m.CAs[0].KeyType != "rsa4096" || cmg.KeyType != "rsa2048" {
		t.Errorf("spec not applied: %s %s %s %s", cmg.Subject, m.BaseURL, m.CAs[0].KeyType, cmg.KeyType)
	}
	ocsp, _ := m.Find("ocsp-responder")
	// validity: 2160h from the lab's not-before (the pinned time less 10 minutes).
	if want := pkitest.At.Add(-10*time.Minute + 2160*time.Hour).Format(time.RFC3339); ocsp.Files.PFX != "" || ocsp.NotAfter != want {
		t.Errorf("ocsp-responder: pfx %q not_after %s, want no PFX and %s", ocsp.Files.PFX, ocsp.NotAfter, want)
	}
}
