//go:build !windows

package ca

// protectKeyFile does nothing where mode 0600, set when the file is
// written, already keeps others out.
func protectKeyFile(string) error { return nil }
