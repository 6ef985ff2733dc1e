package verify

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
)

// TrustStatus is a set of CERT_TRUST_STATUS error flags, with the values and
// names of wincrypt.h (sdk-api ns-wincrypt-cert_trust_status), as CAPI2
// event 11 records them for each chain element.
type TrustStatus uint32

// Trust status flags. The values are those of wincrypt.h.
const (
	TrustIsNotTimeValid                TrustStatus = 0x00000001
	TrustIsRevoked                     TrustStatus = 0x00000004
	TrustIsNotSignatureValid           TrustStatus = 0x00000008
	TrustIsNotValidForUsage            TrustStatus = 0x00000010
	TrustIsUntrustedRoot               TrustStatus = 0x00000020
	TrustRevocationStatusUnknown       TrustStatus = 0x00000040
	TrustIsCyclic                      TrustStatus = 0x00000080
	TrustInvalidExtension              TrustStatus = 0x00000100
	TrustInvalidPolicyConstraints      TrustStatus = 0x00000200
	TrustInvalidBasicConstraints       TrustStatus = 0x00000400
	TrustInvalidNameConstraints        TrustStatus = 0x00000800
	TrustHasNotSupportedNameConstraint TrustStatus = 0x00001000
	TrustHasNotDefinedNameConstraint   TrustStatus = 0x00002000
	TrustHasNotPermittedNameConstraint TrustStatus = 0x00004000
	TrustHasExcludedNameConstraint     TrustStatus = 0x00008000
	TrustIsPartialChain                TrustStatus = 0x00010000
	TrustHasWeakSignature              TrustStatus = 0x00100000
	TrustIsOfflineRevocation           TrustStatus = 0x01000000
	TrustIsExplicitDistrust            TrustStatus = 0x04000000
	TrustHasNotSupportedCriticalExt    TrustStatus = 0x08000000
)

var trustNames = []struct {
	f    TrustStatus
	name string
}{
	{TrustIsNotTimeValid, "CERT_TRUST_IS_NOT_TIME_VALID"},
	{TrustIsRevoked, "CERT_TRUST_IS_REVOKED"},
	{TrustIsNotSignatureValid, "CERT_TRUST_IS_NOT_SIGNATURE_VALID"},
	{TrustIsNotValidForUsage, "CERT_TRUST_IS_NOT_VALID_FOR_USAGE"},
	{TrustIsUntrustedRoot, "CERT_TRUST_IS_UNTRUSTED_ROOT"},
	{TrustRevocationStatusUnknown, "CERT_TRUST_REVOCATION_STATUS_UNKNOWN"},
	{TrustIsCyclic, "CERT_TRUST_IS_CYCLIC"},
	{TrustInvalidExtension, "CERT_TRUST_INVALID_EXTENSION"},
	{TrustInvalidPolicyConstraints, "CERT_TRUST_INVALID_POLICY_CONSTRAINTS"},
	{TrustInvalidBasicConstraints, "CERT_TRUST_INVALID_BASIC_CONSTRAINTS"},
	{TrustInvalidNameConstraints, "CERT_TRUST_INVALID_NAME_CONSTRAINTS"},
	{TrustHasNotSupportedNameConstraint, "CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT"},
	{TrustHasNotDefinedNameConstraint, "CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT"},
	{TrustHasNotPermittedNameConstraint, "CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT"},
	{TrustHasExcludedNameConstraint, "CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT"},
	{TrustIsPartialChain, "CERT_TRUST_IS_PARTIAL_CHAIN"},
	{TrustHasWeakSignature, "CERT_TRUST_HAS_WEAK_SIGNATURE"},
	{TrustIsOfflineRevocation, "CERT_TRUST_IS_OFFLINE_REVOCATION"},
	{TrustIsExplicitDistrust, "CERT_TRUST_IS_EXPLICIT_DISTRUST"},
	{TrustHasNotSupportedCriticalExt, "CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT"},
}

// Has reports whether every flag of f is set in s.
func (s TrustStatus) Has(f TrustStatus) bool { return s&f == f && f != 0 }

// Names returns the wincrypt.h names of the flags set in s, in value order;
// an empty status is CERT_TRUST_NO_ERROR.
func (s TrustStatus) Names() []string {
	if s == 0 {
		return []string{"CERT_TRUST_NO_ERROR"}
	}
	var out []string
	for _, n := range trustNames {
		if s&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func (s TrustStatus) String() string {
	return fmt.Sprintf("0x%08x (%s)", uint32(s), strings.Join(s.Names(), "|"))
}

// MarshalJSON renders s as {"value":"0x...","flags":[names]}.
func (s TrustStatus) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value string   `json:"value"`
		Flags []string `json:"flags"`
	}{fmt.Sprintf("0x%08X", uint32(s)), s.Names()})
}

func (s TrustStatus) count() int { return bits.OnesCount32(uint32(s)) }

// HResult is a Windows HRESULT, rendered in hex as Windows logs it.
type HResult uint32

// MarshalText renders h as 0x800B0109.
func (h HResult) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h HResult) String() string { return fmt.Sprintf("0x%08X", uint32(h)) }

// WindowsError is the error a Windows client logs for a chain decision: the
// HRESULT from CertVerifyCertificateChainPolicy, the WinHTTP error and its
// secure-failure flag (windows-trust.md §2, cmg-reference.md §6). WinHTTP
// wraps all of them in 12175 ERROR_WINHTTP_SECURE_FAILURE.
type WindowsError struct {
	Name        string  `json:"name"`
	HRESULT     HResult `json:"hresult"`
	WinHTTP     int     `json:"winhttp"`
	WinHTTPName string  `json:"winhttp_name"`
	// SecureFailureFlag is the WINHTTP_CALLBACK_STATUS_FLAG_* bit.
	SecureFailureFlag uint32 `json:"secure_failure_flag"`
}

func (w WindowsError) String() string {
	return fmt.Sprintf("%s %s (WinHTTP %d %s)", w.Name, w.HRESULT, w.WinHTTP, w.WinHTTPName)
}

// The Windows errors of windows-trust.md §2. The ones marked "guess" are
// not in that table: Windows reports them through
// ERROR_WINHTTP_SECURE_INVALID_CERT (flag 0x2 INVALID_CERT); the HRESULT is
// the one CertVerifyCertificateChainPolicy returns for the trust status.
var (
	WinUntrustedRoot     = WindowsError{"CERT_E_UNTRUSTEDROOT", 0x800B0109, 12045, "ERROR_WINHTTP_SECURE_INVALID_CA", 0x8}
	WinChaining          = WindowsError{"CERT_E_CHAINING", 0x800B010A, 12045, "ERROR_WINHTTP_SECURE_INVALID_CA", 0x8}
	WinRevocationOffline = WindowsError{"CRYPT_E_REVOCATION_OFFLINE", 0x80092013, 12057, "ERROR_WINHTTP_SECURE_CERT_REV_FAILED", 0x1}
	// No revocation pointer: CERT_TRUST_REVOCATION_STATUS_UNKNOWN without
	// the offline flag (cmg-reference.md §6); WinHTTP reports it with the
	// same REV_FAILED error as an offline CRL.
	WinNoRevocationCheck = WindowsError{"CRYPT_E_NO_REVOCATION_CHECK", 0x80092012, 12057, "ERROR_WINHTTP_SECURE_CERT_REV_FAILED", 0x1}
	WinRevoked           = WindowsError{"CRYPT_E_REVOKED", 0x80092010, 12170, "ERROR_WINHTTP_SECURE_CERT_REVOKED", 0x4}
	WinExpired           = WindowsError{"CERT_E_EXPIRED", 0x800B0101, 12037, "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID", 0x20}
	WinNameMismatch      = WindowsError{"CERT_E_CN_NO_MATCH", 0x800B010F, 12038, "ERROR_WINHTTP_SECURE_CERT_CN_INVALID", 0x10}
	WinWrongUsage        = WindowsError{"CERT_E_WRONG_USAGE", 0x800B0110, 12179, "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE", 0x40}
	// guess: the WinHTTP mapping of the errors below is not in the sources.
	WinBadSignature     = WindowsError{"TRUST_E_CERT_SIGNATURE", 0x80096004, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
	WinBasicConstraints = WindowsError{"TRUST_E_BASIC_CONSTRAINTS", 0x80096019, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
	WinPathLen          = WindowsError{"CERT_E_PATHLENCONST", 0x800B0104, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
	WinInvalidName      = WindowsError{"CERT_E_INVALID_NAME", 0x800B0114, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
	WinCritical         = WindowsError{"CERT_E_CRITICAL", 0x800B0105, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
	WinMalformed        = WindowsError{"CERT_E_MALFORMED", 0x800B0108, 12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", 0x2}
)
