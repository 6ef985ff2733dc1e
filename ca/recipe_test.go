package ca

import (
	"testing"

	"github.com/cmgpki/cmgpki/profiles"
)

// Every role has a recipe, and what it issues stays within the requirement.
func TestRecipesWithinRequirements(t *testing.T) {
	for _, p := range profiles.All() {
		rc, err := RecipeFor(p.Role)
		if err != nil {
			t.Errorf("%s: %v", p.Role, err)
			continue
		}
		if !p.AllowsKey(rc.DefaultKey) {
			t.Errorf("%s: default key %s is not accepted by the requirement (%s)", p.Role, rc.DefaultKey, p.Keys)
		}
		if rc.Validity <= 0 {
			t.Errorf("%s: no default validity (x509util would sign 0001-01-01)", p.Role)
		}
		if rc.PFX.Needed && (rc.PFX.Cite.Source == "" || rc.PFX.DefaultFormat == "") {
			t.Errorf("%s: PFX recipe without format or source", p.Role)
		}
		if rc.ExtraKeyUsage != 0 && rc.ExtraKeyUsageWhy.Cite.Source == "" {
			t.Errorf("%s: extra key usage without a reason", p.Role)
		}
		if (rc.CDP || rc.AIA || rc.OCSP) && !p.Revocation.Checked {
			t.Errorf("%s: revocation pointers on a role clients do not check", p.Role)
		}
		if p.Revocation.Checked && !rc.CDP {
			t.Errorf("%s: a revocation-checked role issued without a CDP", p.Role)
		}
	}
	if _, err := RecipeFor("nope"); err == nil {
		t.Error("RecipeFor of an unknown role gave no error")
	}
}
