package lint

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// WinError is the error a Windows client would log for a failure: the
// CryptoAPI name, its HRESULT and the WinHTTP error ConfigMgr's CCMHTTP
// reports (../shared/docs/windows-trust.md, cmg-reference.md "Error codes").
// The zero value means no Windows error applies.
//
// Its JSON is {"name": "CERT_E_WRONG_USAGE", "hresult": "0x800B0110",
// "winhttp": 12179}; winhttp is left out when 0.
type WinError struct {
	Name    string
	HRESULT uint32
	WinHTTP int
}

// The Windows errors rules and the chain verifier report.
var (
	UntrustedRoot     = WinError{"CERT_E_UNTRUSTEDROOT", 0x800B0109, 12045}
	Chaining          = WinError{"CERT_E_CHAINING", 0x800B010A, 12045}
	RevocationOffline = WinError{"CRYPT_E_REVOCATION_OFFLINE", 0x80092013, 12057}
	NoRevocationCheck = WinError{"CRYPT_E_NO_REVOCATION_CHECK", 0x80092012, 12057}
	Revoked           = WinError{"CRYPT_E_REVOKED", 0x80092010, 12170}
	NameMismatch      = WinError{"CERT_E_CN_NO_MATCH", 0x800B010F, 12038}
	Expired           = WinError{"CERT_E_EXPIRED", 0x800B0101, 12037}
	WrongUsage        = WinError{"CERT_E_WRONG_USAGE", 0x800B0110, 12179}
	// Role is a leaf used as a CA or a CA without basic constraints; WinHTTP
	// reports only its umbrella error 12175 (ERROR_WINHTTP_SECURE_FAILURE).
	Role = WinError{"CERT_E_ROLE", 0x800B0103, 12175}
	// BadSignature is a signature Windows cannot or will not check (SHA-1
	// where distrusted, an unsupported algorithm).
	BadSignature = WinError{"TRUST_E_CERT_SIGNATURE", 0x80096004, 12175}
)

// IsZero reports whether no Windows error is set.
func (w WinError) IsZero() bool { return w == WinError{} }

// String renders "CERT_E_WRONG_USAGE 0x800B0110 (WinHTTP 12179)".
func (w WinError) String() string {
	if w.IsZero() {
		return ""
	}
	s := fmt.Sprintf("%s 0x%08X", w.Name, w.HRESULT)
	if w.WinHTTP != 0 {
		s += fmt.Sprintf(" (WinHTTP %d)", w.WinHTTP)
	}
	return s
}

type winErrorJSON struct {
	Name    string `json:"name"`
	HRESULT string `json:"hresult"`
	WinHTTP int    `json:"winhttp,omitempty"`
}

// MarshalJSON writes {"name", "hresult": "0x800B0110", "winhttp"}.
func (w WinError) MarshalJSON() ([]byte, error) {
	return json.Marshal(winErrorJSON{Name: w.Name, HRESULT: fmt.Sprintf("0x%08X", w.HRESULT), WinHTTP: w.WinHTTP})
}

// UnmarshalJSON reads the object form. A plain string, as manifests written
// before the typed form held, is kept as the name.
func (w *WinError) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*w = WinError{Name: s}
		return nil
	}
	var v winErrorJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("lint: windows error: %w", err)
	}
	var h uint64
	if v.HRESULT != "" {
		var err error
		h, err = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(v.HRESULT), "0x"), 16, 32)
		if err != nil {
			return fmt.Errorf("lint: windows error %s: hresult %q is not a 32-bit hex number", v.Name, v.HRESULT)
		}
	}
	*w = WinError{Name: v.Name, HRESULT: uint32(h), WinHTTP: v.WinHTTP}
	return nil
}
