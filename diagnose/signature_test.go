package diagnose

import (
	"strings"
	"testing"

	"github.com/cmgpki/cmgpki/flow"
)

func TestRegistryRejectsBadData(t *testing.T) {
	good := Signature{ID: "X1", Title: "t", Match: Pattern{Text: "x"}, Cause: "c", Fix: "f", Citation: "s"}
	for name, s := range map[string]Signature{
		"no id":        {Title: "t", Match: Pattern{Text: "x"}, Cause: "c", Fix: "f", Citation: "s"},
		"no match":     {ID: "X2", Title: "t", Cause: "c", Fix: "f", Citation: "s"},
		"no citation":  {ID: "X3", Title: "t", Match: Pattern{Text: "x"}, Cause: "c", Fix: "f"},
		"unknown step": {ID: "X4", Title: "t", Match: Pattern{Text: "x"}, Cause: "c", Fix: "f", Citation: "s", Step: "nope"},
		"duplicate":    good,
	} {
		t.Run(name, func(t *testing.T) {
			var r Registry
			r.Register(good)
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			r.Register(s)
		})
	}
}

// TestPrivateRegistry: a maintainer's signature is data; the reader and
// the matcher need no change.
func TestPrivateRegistry(t *testing.T) {
	sig := Signature{ID: "S99", Title: "custom", Step: flow.StepLocation, Component: flow.CompMP,
		Match: Pattern{File: "LocationServices", Text: "CMGConnector_Forbidden"}, Cause: "c", Fix: "f", Proof: "cmgpki verify endpoint https://{mp}", Citation: "test"}
	res, err := Diagnose(t.Context(), []string{"testdata/signatures/F19"}, Options{Signatures: []Signature{sig}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].ID != "S99" || res.FailingStep != flow.StepLocation || res.Findings[0].Proof != "cmgpki verify endpoint https://MP" {
		t.Errorf("got %+v", res.Findings)
	}
}

func TestDecodeCodes(t *testing.T) {
	got := DecodeCodes("Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016; RetrieveTokenFromStsServerImpl failed with error 0x87d0027e; Code=12057, x; lpvStatusInformation is 0x30")
	var s []string
	for _, c := range got {
		s = append(s, c.Kind+" "+c.Code+" "+c.Name)
	}
	want := "secure-failure-flags 0x30 CERT_CN_INVALID | CERT_DATE_INVALID,winhttp 12057 ERROR_WINHTTP_SECURE_CERT_REV_FAILED,hresult 0xD0090016 0xD0090016 (WAM),hresult 0x87D0027E 0x87D0027E (ConfigMgr)"
	if strings.Join(s, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(s, ","), want)
	}
}
