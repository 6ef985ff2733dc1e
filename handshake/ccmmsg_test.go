package handshake

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestHandshakeRegistrationMessage: the CCM_POST body round-trips (UTF-16
// <Msg> header, zlib UTF-16 payload), the signature verifies, and a changed
// byte of the signed <Data> is refused.
func TestHandshakeRegistrationMessage(t *testing.T) {
	payload, err := registrationRequest(testMat.signing.Leaf, testMat.signingKey, clientGUID, "client01.contoso.com", "2026-11-22T09:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	body, ct, err := encodeMessage(msg{ID: "{1}", ClientID: clientGUID, Target: "MP_ClientRegistration"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(body, []byte("ClientRegistrationRequest")) || !bytes.Contains(body, []byte{'<', 0, 'M', 0, 's', 0, 'g', 0}) {
		t.Error("the payload is not compressed or the header not UTF-16")
	}
	r, _ := http.NewRequest(ccmPost, "https://mp.contoso.com/ccm_system/request", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	h, got, err := decodeMessage(r)
	if err != nil || h.Target != "MP_ClientRegistration" || h.ClientID != clientGUID || h.SchemaVersion != "1.1" || got != payload {
		t.Fatalf("decode: %v %+v", err, h)
	}
	if c, err := checkRegistration(got); err != nil || c.Subject.CommonName != "SMS" {
		t.Fatalf("checkRegistration: %v", err)
	}
	tampered := strings.Replace(got, `Value="client01"`, `Value="client02"`, 1)
	if _, err := checkRegistration(tampered); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("tampered request: %v, want a signature error", err)
	}
	r, _ = http.NewRequest("POST", "https://mp.contoso.com/ccm_system/request", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	if _, _, err := decodeMessage(r); err == nil {
		t.Error("POST accepted; want CCM_POST")
	}
}
