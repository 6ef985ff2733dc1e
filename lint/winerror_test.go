package lint

import (
	"encoding/json"
	"testing"
)

func TestWinErrorJSON(t *testing.T) {
	b, err := json.Marshal(WrongUsage)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"CERT_E_WRONG_USAGE","hresult":"0x800B0110","winhttp":12179}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	for _, w := range []WinError{UntrustedRoot, Chaining, RevocationOffline, Revoked, NameMismatch, Expired, WrongUsage, Role, BadSignature} {
		b, _ := json.Marshal(w)
		var back WinError
		if err := json.Unmarshal(b, &back); err != nil || back != w {
			t.Errorf("round trip of %s gave %+v, %v", b, back, err)
		}
	}
	// Within a Result the zero value is left out.
	b, _ = json.Marshal(Result{Rule: "e_x", Status: Error})
	if string(b) != `{"rule":"e_x","status":"error","citation":{"source":"","section":"","url":""}}` {
		t.Errorf("Result without a Windows error = %s", b)
	}
	// A manifest written before the typed form holds a string.
	var legacy Result
	if err := json.Unmarshal([]byte(`{"rule":"w_x","status":"warn","win_error":"CERT_E_CN_NO_MATCH 0x800B010F"}`), &legacy); err != nil || legacy.WinError.Name != "CERT_E_CN_NO_MATCH 0x800B010F" {
		t.Errorf("legacy string: %+v, %v", legacy.WinError, err)
	}
	if err := json.Unmarshal([]byte(`{"name":"X","hresult":"0xZZ"}`), &legacy.WinError); err == nil {
		t.Error("a bad hresult was accepted")
	}
	if got := Expired.String(); got != "CERT_E_EXPIRED 0x800B0101 (WinHTTP 12037)" {
		t.Errorf("String = %q", got)
	}
}

func TestEffectiveNE(t *testing.T) {
	ran := 0
	r := newTestRegistry()
	for _, x := range []struct {
		name string
		eff  Effective
	}{{"e_always", Always}, {"e_since_2203", Effective{Since: 2203}}, {"e_until_2107", Effective{Until: 2107}}} {
		r.Register(Rule[subj]{Meta: Meta{Name: x.name, Description: "d", Fix: "f", Citation: Cite(SrcSAC, "y"), Effective: x.eff},
			Check: func(subj, Env) Outcome { ran++; return Failf("fails") }})
	}
	for _, tc := range []struct {
		version int
		want    map[string]Status
	}{
		{0, map[string]Status{"e_always": Error, "e_since_2203": Error, "e_until_2107": NE}},
		{2103, map[string]Status{"e_always": Error, "e_since_2203": NE, "e_until_2107": Error}},
		{2203, map[string]Status{"e_always": Error, "e_since_2203": Error, "e_until_2107": NE}},
	} {
		ran = 0
		rep := r.Run(subj{}, Env{CMVersion: tc.version})
		errs := 0
		for _, res := range rep.Results {
			if res.Status != tc.want[res.Rule] {
				t.Errorf("CM %d: %s is %s, want %s", tc.version, res.Rule, res.Status, tc.want[res.Rule])
			}
			if res.Status == Error {
				errs++
			}
		}
		if ran != errs {
			t.Errorf("CM %d: %d checks ran; NE rules must not run (want %d)", tc.version, ran, errs)
		}
	}
}

func TestUnconfirmedCappedAtWarn(t *testing.T) {
	r := newTestRegistry()
	r.Register(rule("e_unconfirmed", nil, Outcome{Status: Error, Details: "x", Unconfirmed: true}))
	res := r.Run(subj{}, Env{}).Results[0]
	if res.Status != Warn {
		t.Errorf("unconfirmed failure is %s, want warn", res.Status)
	}
}
