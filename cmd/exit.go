package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cmgpki/cmgpki/ca"
)

// ExitCode is the process exit status; the table is documented in every
// command's help.
type ExitCode int

// The exit codes.
const (
	ExitOK       ExitCode = 0 // success
	ExitFindings ExitCode = 1 // ran, and found problems at or above --fail-on
	ExitUsage    ExitCode = 2 // bad flags, arguments or input files; nothing was written
	ExitFailure  ExitCode = 3 // could not run: I/O, signing, network
)

var exitCodeText = map[ExitCode]string{
	ExitOK:       "success",
	ExitFindings: "findings at or above the failure threshold",
	ExitUsage:    "usage or input error (bad flag, argument, spec or input file); nothing was written",
	ExitFailure:  "operational error (I/O, signing, network)",
}

// exitCodesHelp is the "Exit codes:" section of a command's help, listing
// only the codes that command can return.
func exitCodesHelp(codes ...ExitCode) string {
	var b strings.Builder
	b.WriteString("Exit codes:")
	for _, c := range codes {
		fmt.Fprintf(&b, "\n  %d  %s", c, exitCodeText[c])
	}
	return b.String()
}

// The exit codes of commands that read input and write or serve: none of
// them has findings (code 1) yet.
var runCodes = []ExitCode{ExitOK, ExitUsage, ExitFailure}

// UsageError is bad input from the user; usage is printed after it when
// ShowUsage is set.
type UsageError struct {
	Err       error
	ShowUsage bool
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErr(err error) error { return &UsageError{Err: err} }

// FindingsError means the command ran and its results crossed the threshold.
type FindingsError struct{ Msg string }

func (e *FindingsError) Error() string { return e.Msg }

func exitCodeFor(err error) ExitCode {
	var ue *UsageError
	var se *ca.SpecError
	var le *ca.LintError
	var fe *FindingsError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &fe):
		return ExitFindings
	case errors.As(err, &ue), errors.As(err, &se), errors.As(err, &le):
		return ExitUsage
	}
	return ExitFailure
}
