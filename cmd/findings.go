package cmd

import (
	"errors"
	"fmt"

	"github.com/cmgpki/cmgpki/ca"
	"github.com/cmgpki/cmgpki/lint"
)

// printFindings writes the lint notices and warnings of one certificate to
// stderr: "Warning: NAME: RULE: DETAILS ([SOURCE] section)", "Note: ...".
// Errors never get here: a certificate its profile rejects is not signed.
func printFindings(f *Factory, name string, rs []lint.Result) {
	for _, r := range rs {
		prefix := "Note"
		if r.Status >= lint.Warn {
			prefix = "Warning"
		}
		fmt.Fprintf(f.IO.ErrOut, "%s: %s: %s: %s (%s)\n", prefix, name, r.Rule, r.Details, r.Citation)
		if r.Fix != "" {
			fmt.Fprintf(f.IO.ErrOut, "      fix: %s\n", r.Fix)
		}
	}
}

// withTemplateFile makes the error of a broken --template name its file.
func withTemplateFile(err error, file string) error {
	var se *ca.SpecError
	if file != "" && errors.As(err, &se) && se.Flag == "--template" {
		se.Flag = "--template " + file
	}
	return err
}
