package verify_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"github.com/cmgpki/cmgpki/verify"
)

// Chain checks a certificate against the roots a client trusts, at a given
// time, for a usage and a host name, as a Windows client would.
func ExampleChain() {
	var limbo struct {
		Testcases []struct {
			ID      string   `json:"id"`
			Trusted []string `json:"trusted_certs"`
			Peer    string   `json:"peer_certificate"`
		} `json:"testcases"`
	}
	b, _ := os.ReadFile("testdata/limbo-subset.json")
	if err := jsonUnmarshal(b, &limbo); err != nil {
		fmt.Println(err)
		return
	}
	for _, tc := range limbo.Testcases {
		if tc.ID != "webpki::san::exact-dns-san" {
			continue
		}
		leaf := mustParse(tc.Peer)
		res, err := verify.Chain(leaf, verify.ChainOptions{
			Roots:  []*x509.Certificate{mustParse(tc.Trusted[0])},
			At:     time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
			Usages: []verify.OID{verify.EKUServerAuth},
			Name:   "example.com",
		})
		fmt.Println("trusted:", res.Trusted, err)
		for _, e := range res.Elements {
			fmt.Println(e.Subject, e.Status.Names())
		}
		// The same root, given only as an untrusted certificate.
		_, err = verify.Chain(leaf, verify.ChainOptions{
			Intermediates: []*x509.Certificate{mustParse(tc.Trusted[0])},
			At:            time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		})
		fmt.Println(err.(*verify.ChainError).Windows)
	}
	// Output:
	// trusted: true <nil>
	// CN=example.com [CERT_TRUST_NO_ERROR]
	// CN=x509-limbo-root [CERT_TRUST_NO_ERROR]
	// CERT_E_UNTRUSTEDROOT 0x800B0109 (WinHTTP 12045 ERROR_WINHTTP_SECURE_INVALID_CA)
}

func mustParse(p string) *x509.Certificate {
	blk, _ := pem.Decode([]byte(p))
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		panic(err)
	}
	return c
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
