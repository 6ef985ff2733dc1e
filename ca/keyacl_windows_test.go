//go:build windows

package ca

import (
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows every key, PFX and password file of a lab has a protected DACL
// (nothing inherited) granting full control to the current user, SYSTEM
// and Administrators only.
func TestKeyFilesACL(t *testing.T) {
	dir, m := makeLab(t, nil, LabOptions{})
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{u.User.Sid.String(), "S-1-5-18", "S-1-5-32-544"}
	slices.Sort(want)
	want = slices.Compact(want)
	for _, rel := range secretFiles(m) {
		sd, err := windows.GetNamedSecurityInfo(filepath.Join(dir, filepath.FromSlash(rel)), windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		ctl, _, err := sd.Control()
		if err != nil {
			t.Fatal(err)
		}
		if ctl&windows.SE_DACL_PROTECTED == 0 {
			t.Errorf("%s: DACL is not protected from inheritance", rel)
		}
		dacl, _, err := sd.DACL()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := uint32(0); i < uint32(dacl.AceCount); i++ {
			var ace *windows.ACCESS_ALLOWED_ACE
			if err := windows.GetAce(dacl, i, &ace); err != nil {
				t.Fatal(err)
			}
			if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Mask != 0x1F01FF /* FILE_ALL_ACCESS, "FA" in SDDL */ {
				t.Errorf("%s: ACE %d type %d mask %#x, want allow full control", rel, i, ace.Header.AceType, ace.Mask)
			}
			got = append(got, (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String())
		}
		slices.Sort(got)
		if !slices.Equal(slices.Compact(got), want) {
			t.Errorf("%s: DACL grants %v, want exactly %v", rel, got, want)
		}
	}
}
