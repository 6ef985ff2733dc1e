package layout

import (
	"strings"
	"testing"
)

func TestParseBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://pki.contoso.com/":    "http://pki.contoso.com",
		"http://pki.contoso.com/cmg": "http://pki.contoso.com/cmg",
	} {
		if got, err := ParseBaseURL(in); err != nil || got != want {
			t.Errorf("ParseBaseURL(%q) = %q, %v", in, got, err)
		}
	}
	for in, msg := range map[string]string{
		"https://pki.contoso.com": "scheme must be http",
		"pki.contoso.com":         "scheme must be http",
		"http://":                 "want http://host",
		"http://x/?a=b":           "no query",
	} {
		if _, err := ParseBaseURL(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseBaseURL(%q) = %v, want error with %q", in, err, msg)
		}
	}
}

func TestFor(t *testing.T) {
	u := For("http://pki.contoso.com", "issuing-ca")
	if u.CRL != "http://pki.contoso.com/crl/issuing-ca.crl" || u.CACert != "http://pki.contoso.com/ca/issuing-ca.cer" || u.OCSP != "http://pki.contoso.com/ocsp" {
		t.Errorf("For = %+v", u)
	}
	if ValidCAName("Issuing CA") == nil || ValidCAName("issuing-ca") != nil {
		t.Error("ValidCAName")
	}
}
