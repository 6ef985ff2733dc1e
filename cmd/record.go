package cmd

import "github.com/cmgpki/cmgpki/ca"

// recorderFor returns the recorder that keeps the lab's revocation store in
// step with issuance.
func recorderFor(f *Factory, dir string) ca.Recorder { return nil }
