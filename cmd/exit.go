package cmd

import (
	"errors"

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

const exitCodesHelp = `Exit codes:
  0  success
  1  findings at or above the failure threshold
  2  usage or input error (bad flag, argument, spec or input file); nothing was written
  3  operational error (I/O, signing, network)`

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
