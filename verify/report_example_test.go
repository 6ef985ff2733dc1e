package verify_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/verify"
)

// CheckCertificate judges a certificate file as the verify cert command
// does: the chain, the requirements of its role (auto: inferred, and the
// report says why) and the file itself, merged into one report.
func ExampleCheckCertificate() {
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
		in := verify.CertInput{Bundle: &certio.Bundle{Name: "example.pem", Format: certio.FormatPEM,
			Certs: []*x509.Certificate{mustParse(tc.Peer)}}}
		rep, err := verify.CheckCertificate(context.Background(), in, verify.CertOptions{
			ChainOptions: verify.ChainOptions{
				Roots: []*x509.Certificate{mustParse(tc.Trusted[0])},
				At:    time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
				Name:  "example.com",
			},
			Profile: "auto",
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("profile:", rep.Profile.Name, "-", rep.Profile.Reason)
		fmt.Println("trusted:", rep.Chain.Trusted, "max:", rep.MaxLevel)
		for _, f := range rep.Findings {
			fmt.Println(f.Level, f.Origin, f.ID)
		}
	}
	// Output:
	// profile: cmg-server - EKU serverAuth with one DNS name, example.com, whose first label is a valid CMG service name (give --profile mp-https for a site system)
	// trusted: true max: error
	// error profile e_key_type_not_allowed
	// warn profile e_key_usage_missing
	// warn profile w_aia_missing
	// warn profile w_cdp_missing
	// notice chain revocation_off
}
