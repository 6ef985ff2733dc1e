package diagnose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Code is one Windows or ConfigMgr code found in an evidence line, decoded.
type Code struct {
	Code    string `json:"code"`    // as written in the log: "0x9", "12175", "0x87d0027e"
	Kind    string `json:"kind"`    // "hresult", "winhttp", "secure-failure-flags"
	Name    string `json:"name"`    // symbolic name(s)
	Meaning string `json:"meaning"` // what it means for a CMG client
}

type codeInfo struct{ name, meaning string }

// hresults are the HRESULTs of cmg-reference.md §6, windows-trust.md §2 and
// cmg-failures.md, keyed by lower-case 8-digit hex.
var hresults = map[uint32]codeInfo{
	0x80092013: {"CRYPT_E_REVOCATION_OFFLINE", "the revocation server (CRL/OCSP) was offline"},
	0x80092012: {"CRYPT_E_NO_REVOCATION_CHECK", "the revocation function was unable to check revocation"},
	0x80092010: {"CRYPT_E_REVOKED", "the certificate is revoked"},
	0x80092004: {"CRYPT_E_NOT_FOUND", "object or property not found: no client PKI certificate (cmg-failures.md F32)"},
	0x800B0109: {"CERT_E_UNTRUSTEDROOT", "the chain ends in a root that is not trusted"},
	0x800B010A: {"CERT_E_CHAINING", "the chain could not be built to a trusted root (missing intermediate)"},
	0x800B010F: {"CERT_E_CN_NO_MATCH", "the certificate's name does not match the host"},
	0x800B0101: {"CERT_E_EXPIRED", "the certificate is outside its validity period"},
	0x800B0110: {"CERT_E_WRONG_USAGE", "the certificate is not valid for the requested usage"},
	0x80072F8F: {"ERROR_WINHTTP_SECURE_FAILURE", "WinHTTP secure failure (12175)"},
	0x87D00454: {"0x87D00454 (ConfigMgr)", "non-recoverable content-location failure, logged with Text=CCM_E_NO_CLIENT_PKI_CERT (cmg-failures.md F06)"},
	0x87D00455: {"0x87D00455 (ConfigMgr)", "non-recoverable download failure (DownloadFileByWinHTTP, cmg-failures.md F27)"},
	0x87D0027E: {"0x87D0027E (ConfigMgr)", "token or content request refused through the CMG (cmg-failures.md F18, F27, F31; /regtoken with /mp)"},
	0x87D00215: {"0x87D00215 (ConfigMgr)", "item not found"},
	0x80070002: {"ERROR_FILE_NOT_FOUND", "the system cannot find the file specified (no token and no PKI certificate)"},
	0xD0090016: {"0xD0090016 (WAM)", "the WAM device-token request failed (\"AAD WAM extension error\"): no device token (cmg-failures.md F23)"},
	0x800703F0: {"ERROR_NO_TOKEN", "an attempt was made to reference a token that does not exist; no device token"},
	0x80131040: {"FUSION_E_REF_DEF_MISMATCH", "the located assembly's manifest does not match the reference"},
}

// winhttp are WinHTTP error numbers.
var winhttp = map[int]codeInfo{
	12175: {"ERROR_WINHTTP_SECURE_FAILURE", "the server certificate failed validation; the flag lines say why"},
	12057: {"ERROR_WINHTTP_SECURE_CERT_REV_FAILED", "revocation could not be checked (0x80092013)"},
	12045: {"ERROR_WINHTTP_SECURE_INVALID_CA", "untrusted root (0x800B0109)"},
	12170: {"ERROR_WINHTTP_SECURE_CERT_REVOKED", "revoked (0x80092010)"},
	12038: {"ERROR_WINHTTP_SECURE_CERT_CN_INVALID", "name mismatch (0x800B010F)"},
	12037: {"ERROR_WINHTTP_SECURE_CERT_DATE_INVALID", "expired or not yet valid (0x800B0101)"},
	12179: {"ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE", "wrong usage (0x800B0110)"},
	12029: {"ERROR_WINHTTP_CANNOT_CONNECT", "could not connect"},
	12002: {"ERROR_WINHTTP_TIMEOUT", "the request timed out"},
}

// secureFlags are the WINHTTP_CALLBACK_STATUS_FLAG_* bits.
var secureFlags = []struct {
	bit           uint64
	name, meaning string
}{
	{0x1, "CERT_REV_FAILED", "revocation failed (0x80092013 / 12057)"},
	{0x2, "INVALID_CERT", "malformed certificate"},
	{0x4, "CERT_REVOKED", "revoked (0x80092010 / 12170)"},
	{0x8, "INVALID_CA", "root or intermediate not trusted (0x800B0109 / 12045)"},
	{0x10, "CERT_CN_INVALID", "name mismatch (0x800B010F / 12038)"},
	{0x20, "CERT_DATE_INVALID", "expired or not yet valid (0x800B0101 / 12037)"},
	{0x40, "CERT_WRONG_USAGE", "wrong usage (0x800B0110 / 12179)"},
	{0x80000000, "SECURITY_CHANNEL_ERROR", "SChannel error"},
}

// DecodeFlags decodes a secure-failure status ("0x9").
func DecodeFlags(v uint64) Code {
	var names, meanings []string
	for _, f := range secureFlags {
		if v&f.bit != 0 {
			names = append(names, f.name)
			meanings = append(meanings, f.meaning)
		}
	}
	if v&^0x8000007F != 0 {
		names = append(names, fmt.Sprintf("unknown bits 0x%x", v&^0x8000007F))
	}
	return Code{Code: fmt.Sprintf("0x%x", v), Kind: "secure-failure-flags", Name: strings.Join(names, " | "), Meaning: strings.Join(meanings, " + ")}
}

var (
	reFlags   = regexp.MustCompile(`lpvStatusInformation is (0x[0-9A-Fa-f]+)`)
	reWinHTTP = regexp.MustCompile(`(?:Code=|WinHttpError )(\d{5})\b`)
	reHex     = regexp.MustCompile(`\b(?:0x)?([89CDcd][0-9A-Fa-f]{7})\b`)
)

// DecodeCodes finds and decodes the codes in one line of text.
func DecodeCodes(text string) []Code {
	var out []Code
	seen := map[string]bool{}
	add := func(c Code) {
		if !seen[c.Kind+c.Code] {
			seen[c.Kind+c.Code] = true
			out = append(out, c)
		}
	}
	if m := reFlags.FindStringSubmatch(text); m != nil {
		if v, err := strconv.ParseUint(m[1][2:], 16, 64); err == nil {
			add(DecodeFlags(v))
		}
	}
	for _, m := range reWinHTTP.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		if ci, ok := winhttp[n]; ok {
			add(Code{Code: m[1], Kind: "winhttp", Name: ci.name, Meaning: ci.meaning})
		}
	}
	for _, m := range reHex.FindAllStringSubmatch(text, -1) {
		v, err := strconv.ParseUint(m[1], 16, 32)
		if err != nil {
			continue
		}
		if ci, ok := hresults[uint32(v)]; ok {
			add(Code{Code: fmt.Sprintf("0x%08X", v), Kind: "hresult", Name: ci.name, Meaning: ci.meaning})
		}
	}
	return out
}
