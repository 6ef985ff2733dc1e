package cmd

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/internal/clock"
)

// IOStreams are the command's streams: results to Out, everything else to
// ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutIsTTY is true when Out is a terminal; only then are text tables
	// fitted to TermWidth (0: unknown, not fitted). Piped output is stable.
	OutIsTTY  bool
	TermWidth int
}

// Factory carries what commands take from the outside world, so tests can
// pin them.
type Factory struct {
	IO     IOStreams
	Clock  clock.Clock
	Rand   io.Reader
	Getenv func(string) string

	wide bool // --wide: tables in full even on a narrow terminal
}

func defaultFactory() *Factory {
	tty, width := terminal(os.Stdout, os.Getenv)
	return &Factory{
		IO:     IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, OutIsTTY: tty, TermWidth: width},
		Clock:  clock.Real{},
		Rand:   rand.Reader,
		Getenv: os.Getenv,
	}
}

func (f *Factory) notef(format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, "Note: "+format+"\n", args...)
}

// secret reads a password from the file named by a flag, else from an
// environment variable; never from a plain flag value. Files are decoded by
// certio.ReadSecretFile (UTF-8 with or without a BOM, UTF-16 with a BOM).
func (f *Factory) secret(flag, file, env string) ([]byte, error) {
	if file != "" {
		b, err := certio.ReadSecretFile(file)
		if err != nil {
			return nil, usageErr(fmt.Errorf("%s: %w", flag, err))
		}
		return b, nil
	}
	if v := f.Getenv(env); v != "" {
		b, err := certio.DecodeSecret([]byte(v))
		if err != nil {
			return nil, usageErr(fmt.Errorf("%s: the password %w", env, err))
		}
		return b, nil
	}
	return nil, nil
}

// secretSource names where secret reads from, for messages.
func (f *Factory) secretSource(flag, file, env string) string {
	if file != "" {
		return flag + " " + file
	}
	return env
}

// outputFormat validates --output.
func outputFormat(v string) error {
	switch strings.ToLower(v) {
	case "text", "json":
		return nil
	}
	return usageErr(fmt.Errorf("--output: unknown format %q (want text or json)", v))
}
