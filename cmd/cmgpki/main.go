// Command cmgpki builds and checks the PKI behind a Configuration Manager
// Cloud Management Gateway. See the README.
package main

import (
	"os"

	"github.com/cmgpki/cmgpki/cmd"
)

func main() { os.Exit(int(cmd.Main(os.Args[1:]))) }
