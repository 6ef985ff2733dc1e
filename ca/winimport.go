package ca

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lab"
	"github.com/cmgpki/cmgpki/profiles"
)

// ImportScriptFile is the name of the Windows import script at the lab root.
const ImportScriptFile = "import-windows.ps1"

// syncLabFiles brings the files that follow the manifest up to date after
// every command that changes it: it rewrites DIR/import-windows.ps1
// atomically from m, so the script always lists what the lab holds, and on
// Windows, where mode 0600 means nothing, it gives every key, PFX and
// password file an ACL for the current user, SYSTEM and Administrators.
func syncLabFiles(dir string, m *lab.Manifest) error {
	if err := certio.WriteFileAtomic(filepath.Join(dir, ImportScriptFile), ImportScript(m), 0o644); err != nil {
		return fmt.Errorf("ca: writing %s: %w", ImportScriptFile, err)
	}
	for _, rel := range secretFiles(m) {
		if err := protectKeyFile(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

// ImportScript renders import-windows.ps1 for Windows PowerShell 5.1 and
// PowerShell 7. The lab's contents are two tables ($LabCAs,
// $LabCertificates) followed by fixed logic:
//
//   - by default it imports the CAs only (self-signed CAs into
//     LocalMachine\Root, the others into LocalMachine\CA) and lists the
//     certificates with a PFX and where each belongs. A PFX is imported
//     (into LocalMachine\My, key exportable, as the CMG wizard needs [SAC])
//     only when named with -Name, or with -All, which skips wpj-device
//     certificates: putting every client certificate into one machine's
//     LocalMachine\My confuses ConfigMgr's client certificate selection.
//   - it never changes the caller's location; lab files resolve against
//     $PSScriptRoot, a relative -PfxPasswordFile against the caller's
//     directory. Without a password file it prompts (Read-Host
//     -AsSecureString).
//   - it stops at the first failed import, naming the file and the error
//     (with a hint for AES PFX files on Server 2016 and older), exit code 1.
//   - -ProtectKeys sets an ACL on the lab's key, PFX and password files
//     granting only Administrators and SYSTEM (0600 means nothing on
//     Windows).
//
// The file starts with a UTF-8 byte order mark: without one, Windows
// PowerShell 5.1 reads a script in the ANSI code page, where UTF-8
// continuation bytes such as 0x91 and 0x92 are quote characters.
func ImportScript(m *lab.Manifest) []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	b.WriteString(scriptHead)
	fmt.Fprintf(&b, "$DefaultPfxPasswordFile = '%s'\n", psQuote(winPath(m.PFXPasswordFile)))
	b.WriteString("$LabCAs = @(\n")
	for _, c := range m.CAs {
		store := "CA"
		if c.IssuerName == c.Name {
			store = "Root"
		}
		fmt.Fprintf(&b, "  [pscustomobject]@{ Name = '%s'; Role = '%s'; Store = '%s'; File = '%s'; Thumbprint = '%s'; Subject = '%s' }\n",
			psQuote(c.Name), psQuote(c.Role), store, psQuote(winPath(c.Files.DER)), psQuote(c.SHA1Thumbprint), psQuote(c.Subject))
	}
	b.WriteString(")\n$LabCertificates = @(\n")
	for _, c := range m.Certificates {
		fmt.Fprintf(&b, "  [pscustomobject]@{ Name = '%s'; Role = '%s'; Pfx = '%s'; PfxFormat = '%s'; Thumbprint = '%s'; Subject = '%s'; BelongsOn = '%s' }\n",
			psQuote(c.Name), psQuote(c.Role), psQuote(winPath(c.Files.PFX)), psQuote(c.PFXFormat), psQuote(c.SHA1Thumbprint), psQuote(c.Subject), psQuote(belongsOn(c)))
	}
	b.WriteString(")\n$LabSecretFiles = @(\n")
	for _, f := range secretFiles(m) {
		fmt.Fprintf(&b, "  '%s'\n", psQuote(winPath(f)))
	}
	b.WriteString(")\n")
	b.WriteString(scriptBody)
	return bytes.ReplaceAll(b.Bytes(), []byte("\n"), []byte("\r\n"))
}

// belongsOn says where a certificate of the lab is meant to be imported.
func belongsOn(e lab.Entry) string {
	switch profiles.Role(e.Role) {
	case profiles.CMGServer:
		return "the host where you run the CMG wizard (upload the PFX there)"
	case profiles.MPHTTPS:
		return "the management point (IIS HTTPS binding)"
	case profiles.CMGConnectionPoint:
		return "the site system with the CMG connection point"
	case profiles.PKIClient:
		return "that client only (its LocalMachine\\My)"
	case profiles.WPJDevice:
		return "lab tests only; never with -All (an Entra-joined device gets its own from Entra)"
	case profiles.OCSPSigner:
		return "cmgpki serve (no PFX)"
	}
	if e.Files.PFX == "" {
		return "(no PFX)"
	}
	return ""
}

// secretFiles are the lab files that must be readable only by their owner:
// keys, PFX files and the generated PFX password.
func secretFiles(m *lab.Manifest) []string {
	var out []string
	if m.PFXPasswordFile != "" {
		out = append(out, m.PFXPasswordFile)
	}
	for _, e := range append(append([]lab.Entry(nil), m.CAs...), m.Certificates...) {
		for _, f := range []string{e.Files.Key, e.Files.PFX} {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

// psQuote escapes s for a PowerShell single-quoted string. PowerShell takes
// the typographic single quotes U+2018..U+201B as quotes too; each quote is
// escaped by doubling it. Control characters (a newline would end a table
// line) become '?'.
func psQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\'' || (r >= '\u2018' && r <= '\u201B'):
			b.WriteRune(r)
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r == '\u0085' || r == '\u2028' || r == '\u2029':
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

const scriptHead = `# import-windows.ps1: written by cmgpki from manifest.json. cmgpki rewrites it whenever the lab changes.
<#
.SYNOPSIS
Imports this cmgpki lab's CA certificates, and the PFX files you name, into the Windows LocalMachine stores.

.DESCRIPTION
Roots go to LocalMachine\Root, intermediates to LocalMachine\CA, a PFX to LocalMachine\My with an exportable
key (the CMG wizard needs that). By default only the CAs are imported and the certificates of the lab are
listed: import a certificate on the machine it belongs to with -Name. A client certificate belongs in
LocalMachine\My of that client only; several client certificates in one machine's store confuse
ConfigMgr's client certificate selection.
The script does not change your location. It stops at the first import that fails, names the file and the
error, and exits with code 1. Imports can be repeated safely.

.PARAMETER CAOnly
Import the CA certificates only, and list nothing.

.PARAMETER Name
Import the CAs and the PFX of these certificates (-Name cmg-server,client01).

.PARAMETER All
Import the CAs and every PFX except wpj-device certificates (those only with -Name). For one lab machine only.

.PARAMETER List
List the CAs and certificates of the lab and import nothing.

.PARAMETER PfxPasswordFile
File holding the PFX password; a relative path is taken from your current directory. Default: the lab's
generated password file. Without one the script asks for the password.

.PARAMETER ProtectKeys
Set an ACL on the lab's key, PFX and password files granting only Administrators and SYSTEM (icacls). Alone it
imports nothing; with -CAOnly, -Name or -All it then imports as asked.

.EXAMPLE
.\import-windows.ps1 -Name cmg-server

.EXAMPLE
powershell -ExecutionPolicy Bypass -File C:\cmg-lab\import-windows.ps1 -CAOnly
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
  [switch]$CAOnly,
  [string[]]$Name,
  [switch]$All,
  [switch]$List,
  [string]$PfxPasswordFile,
  [switch]$ProtectKeys
)
$ErrorActionPreference = 'Stop'

# The lab, from manifest.json. Paths are relative to this script's directory.
`

const scriptBody = `
function Stop-LabImport([string]$Message) {
  $Host.UI.WriteErrorLine("Error: $Message")
  exit 1
}

function Get-LabPath([string]$Relative) {
  return (Join-Path -Path $PSScriptRoot -ChildPath $Relative)
}

function Show-LabCertificates {
  Write-Host 'CAs (always imported):'
  $LabCAs | Format-Table -AutoSize -Property 'Name', 'Store', 'Thumbprint', 'Subject' | Out-Host
  Write-Host 'Certificates (import one on the machine it belongs to: .\import-windows.ps1 -Name NAME):'
  $LabCertificates | Format-Table -AutoSize -Property 'Name', 'Role', 'Pfx', 'Thumbprint', 'BelongsOn' | Out-Host
}

function Protect-LabKeys {
  # Only Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18), by SID so it works in any language.
  $done = 0
  foreach ($rel in $LabSecretFiles) {
    $path = Get-LabPath $rel
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { continue }
    # icacls reports its own errors on stderr (not redirected: with 2>&1, PowerShell 5.1 would stop at its first line).
    & icacls.exe $path /inheritance:r /grant:r '*S-1-5-32-544:F' '*S-1-5-18:F' | Out-Null
    if ($LASTEXITCODE -ne 0) { Stop-LabImport "icacls failed on $path (exit code $LASTEXITCODE)" }
    $done++
  }
  Write-Host "Protected $done key, PFX and password files: only Administrators and SYSTEM can open them."
}

function Import-LabCA($ca) {
  $path = Get-LabPath $ca.File
  try {
    Import-Certificate -FilePath $path -CertStoreLocation ('Cert:\LocalMachine\' + $ca.Store) | Out-Null
  } catch {
    Stop-LabImport "importing CA $($ca.Name) from $path into LocalMachine\$($ca.Store) failed: $($_.Exception.Message)"
  }
  Write-Host "Imported CA $($ca.Name) into LocalMachine\$($ca.Store) ($($ca.Thumbprint))"
}

function Import-LabPfx($cert, $password) {
  $path = Get-LabPath $cert.Pfx
  try {
    Import-PfxCertificate -FilePath $path -CertStoreLocation 'Cert:\LocalMachine\My' -Password $password -Exportable | Out-Null
  } catch {
    $msg = "importing $($cert.Name) from $path into LocalMachine\My failed: $($_.Exception.Message)"
    if ($_.Exception.Message -match 'password') {
      if ($cert.PfxFormat -eq 'legacy') {
        $msg += ' Hint: check the password (-PfxPasswordFile).'
      } else {
        $msg += ' Hint: if the password is right, this Windows cannot read AES-256 PFX files (Server 2016 and older report a wrong password); reissue it with: cmgpki issue ... --force --pfx-format legacy'
      }
    }
    Stop-LabImport $msg
  }
  Write-Host "Imported $($cert.Name) into LocalMachine\My ($($cert.Thumbprint))"
}

function Read-LabPfxPassword {
  $file = $null
  if ($PfxPasswordFile) {
    # Relative to the caller's directory, not this script's.
    $file = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($PfxPasswordFile)
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { Stop-LabImport "-PfxPasswordFile: $file not found" }
  } elseif ($DefaultPfxPasswordFile -and (Test-Path -LiteralPath (Get-LabPath $DefaultPfxPasswordFile) -PathType Leaf)) {
    $file = Get-LabPath $DefaultPfxPasswordFile
  }
  if (-not $file) {
    return (Read-Host -AsSecureString -Prompt 'PFX password')
  }
  # ReadAllText honours a UTF-8 or UTF-16 byte order mark; one trailing newline is dropped, as cmgpki does.
  $text = [System.IO.File]::ReadAllText($file).TrimEnd([char]13, [char]10)
  if (-not $text) { Stop-LabImport "PFX password file $file is empty" }
  return (ConvertTo-SecureString -String $text -AsPlainText -Force)
}

$modes = @($CAOnly.IsPresent, [bool]$Name, $All.IsPresent, $List.IsPresent) | Where-Object { $_ }
if (@($modes).Count -gt 1) { Stop-LabImport 'use only one of -CAOnly, -Name, -All and -List' }
if ($List -and $ProtectKeys) { Stop-LabImport '-ProtectKeys: use it without -List' }

if ($List) {
  Show-LabCertificates
  exit 0
}

# Which PFX files to import: none by default, those named with -Name, or with -All all but wpj-device.
$selected = @()
if ($All) {
  $selected = @($LabCertificates | Where-Object { $_.Pfx -and $_.Role -ne 'wpj-device' })
  Write-Warning 'Importing every PFX into this machine. Client certificates belong on their own clients: several in one LocalMachine\My confuse ConfigMgr client certificate selection. wpj-device certificates are skipped (use -Name).'
} elseif ($Name) {
  # -File passes -Name a,b as one string: split on commas too.
  foreach ($n in @($Name | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })) {
    $cert = @($LabCertificates | Where-Object { $_.Name -eq $n })
    if ($cert.Count -eq 0) {
      if (@($LabCAs | Where-Object { $_.Name -eq $n }).Count -gt 0) { continue }
      Stop-LabImport "-Name: this lab has no certificate named '$n' (run with -List to see them)"
    }
    if (-not $cert[0].Pfx) { Stop-LabImport "-Name: $n has no PFX to import" }
    $selected += $cert[0]
  }
}

if ($ProtectKeys) {
  Protect-LabKeys
  if (-not ($CAOnly -or $Name -or $All)) { exit 0 }
}

foreach ($ca in $LabCAs) { Import-LabCA $ca }

if ($selected.Count -gt 0) {
  $password = Read-LabPfxPassword
  foreach ($cert in $selected) {
    if ($cert.Role -eq 'pki-client' -and $cert.Subject -notlike "*$env:COMPUTERNAME*") {
      Write-Warning "$($cert.Name) ($($cert.Subject)) does not name this computer ($env:COMPUTERNAME); ConfigMgr selects a client certificate whose subject holds the computer name."
    }
    if ($cert.Role -eq 'wpj-device') {
      Write-Warning "$($cert.Name) is a lab copy of an Entra device certificate; importing it does not join this device to Entra."
    }
    Import-LabPfx $cert $password
  }
}

Write-Host "Imported $($LabCAs.Count) CA certificates and $($selected.Count) PFX files."
if (-not ($CAOnly -or $Name -or $All)) {
  Write-Host ''
  Show-LabCertificates
}
`
