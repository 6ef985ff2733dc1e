package crl_test

import (
	"fmt"

	"github.com/cmgpki/cmgpki/crl"
)

// Serials as the manifest, openssl or Windows print them all parse.
func ExampleParseSerial() {
	for _, s := range []string{"5b0e3c", "5B:0E:3C", "5b 0e 3c"} {
		n, err := crl.ParseSerial(s)
		fmt.Println(crl.SerialHex(n), err)
	}
	r, _ := crl.ParseReason("keyCompromise")
	fmt.Println(r, crl.ReasonName(r))
	// Output:
	// 5b0e3c <nil>
	// 5b0e3c <nil>
	// 5b0e3c <nil>
	// 1 keyCompromise
}
