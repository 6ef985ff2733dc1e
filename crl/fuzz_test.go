package crl

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/crypto/ocsp"
)

var (
	fuzzOnce    sync.Once
	fuzzHandler *Handler
)

// FuzzOCSPHandler feeds arbitrary bytes to the OCSP endpoint as a POST body
// and as a GET path. The handler must never panic or answer 500: every
// answer is 200 with a parseable OCSP response (good/revoked/unknown or an
// error status), or 413/414 for oversized input. Seeds: testdata/fuzz.
func FuzzOCSPHandler(f *testing.F) {
	fuzzOnce.Do(func() {
		fx := newFixture(f, "", NewMemStore(), &labSpecNoLeaves)
		resp, err := NewResponder(ResponderConfig{Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
		if err != nil {
			f.Fatal(err)
		}
		fuzzHandler = NewHandler(HandlerConfig{Responder: resp, Store: fx.store, Clock: fx.clk, Issuers: fx.issuers})
		f.Add(ocspReq(f, fx.cert(f, "cmg-server"), fx.lab.Authorities["issuing-ca"].Cert, crypto.SHA1))
	})
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, req := range []*http.Request{
			httptest.NewRequest(http.MethodPost, "/ocsp", bytes.NewReader(data)),
			httptest.NewRequest(http.MethodGet, "/ocsp/"+base64.StdEncoding.EncodeToString(data), nil),
		} {
			w := httptest.NewRecorder()
			fuzzHandler.ServeHTTP(w, req)
			switch w.Code {
			case http.StatusOK:
				_, err := ocsp.ParseResponse(w.Body.Bytes(), nil)
				var re ocsp.ResponseError
				// ParseResponse with no issuer parses a signed response without
				// checking the signature; error statuses come back as ResponseError.
				if err != nil && !errors.As(err, &re) {
					t.Fatalf("%s: body is not an OCSP response: %v", req.Method, err)
				}
			case http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong:
			default:
				t.Fatalf("%s: HTTP %d", req.Method, w.Code)
			}
		}
	})
}
