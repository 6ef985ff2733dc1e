package ca

import (
	"bytes"
	"fmt"
	"strings"
)

// ImportScript renders import-windows.ps1: self-signed CAs into
// LocalMachine\Root, intermediates into LocalMachine\CA, and each PFX into
// LocalMachine\My (key exportable, as the CMG wizard needs [SAC]). It reads
// the PFX password from the lab's password file, or from -PfxPasswordFile.
func ImportScript(m *Manifest) []byte {
	var b bytes.Buffer
	pw := m.PFXPasswordFile
	b.WriteString(`# import-windows.ps1, written by cmgpki. Run in an elevated PowerShell from the lab directory:
#   powershell -ExecutionPolicy Bypass -File .\import-windows.ps1
# Roots go to LocalMachine\Root, intermediates to LocalMachine\CA, each PFX to LocalMachine\My.
param([string]$PfxPasswordFile = '` + psQuote(pw) + `')
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot
if (-not $PfxPasswordFile -or -not (Test-Path -LiteralPath $PfxPasswordFile)) {
  throw "PFX password file not found: pass -PfxPasswordFile <file> (the lab was made with a password of your own)"
}
$pfxPassword = ConvertTo-SecureString -String (Get-Content -LiteralPath $PfxPasswordFile -Raw).Trim() -AsPlainText -Force
`)
	for _, c := range m.CAs {
		store := `Cert:\LocalMachine\CA`
		if c.IssuerName == c.Name {
			store = `Cert:\LocalMachine\Root`
		}
		fmt.Fprintf(&b, "Import-Certificate -FilePath '%s' -CertStoreLocation '%s' | Out-Null  # %s %s\n",
			psQuote(winPath(c.Files.DER)), store, c.Role, c.SHA1Thumbprint)
	}
	for _, c := range m.Certificates {
		if c.Files.PFX == "" {
			continue
		}
		fmt.Fprintf(&b, "Import-PfxCertificate -FilePath '%s' -CertStoreLocation 'Cert:\\LocalMachine\\My' -Password $pfxPassword -Exportable | Out-Null  # %s %s\n",
			psQuote(winPath(c.Files.PFX)), c.Role, c.SHA1Thumbprint)
	}
	b.WriteString("Write-Host 'cmgpki lab certificates imported.'\n")
	return b.Bytes()
}

func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }
func psQuote(s string) string { return strings.ReplaceAll(s, "'", "''") }
