//go:build windows

package ca

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// protectKeyFile is what mode 0600 is on Unix: it replaces path's DACL with
// a protected one (no inherited entries) granting full control to the user
// running cmgpki, SYSTEM and Administrators, and nobody else.
func protectKeyFile(path string) error {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return fmt.Errorf("ca: protecting %s: reading the current user: %w", path, err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;FA;;;" + u.User.Sid.String() + ")(A;;FA;;;SY)(A;;FA;;;BA)")
	if err != nil {
		return fmt.Errorf("ca: protecting %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("ca: protecting %s: %w", path, err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("ca: protecting %s: setting its ACL: %w", path, err)
	}
	return nil
}
