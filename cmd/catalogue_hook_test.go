package cmd

import (
	"fmt"

	"github.com/cmgpki/cmgpki/verify"
)

// Every report the command tests make fails loudly on a finding whose ID
// is neither in verify.Catalogue nor a registered rule: such a finding would
// be missing from "rules list" and docs/rules.md.
func init() {
	verify.UnknownFinding = func(id string) {
		panic(fmt.Sprintf("cmd: finding %q is neither in verify.Catalogue nor a registered rule: add its catalogue entry", id))
	}
}
