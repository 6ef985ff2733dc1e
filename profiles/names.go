package profiles

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

var labelRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// CheckDNSName returns an error saying what is wrong with name as a SAN
// dNSName: empty labels, bad characters, a label over 63 or a name over 253
// characters, or a wildcard anywhere but as the whole leftmost label of a
// name with at least two more labels ("*.contoso.com"). An IP address is
// refused: no CMG role takes an iPAddress SAN, and ConfigMgr clients reach
// site systems and the CMG by FQDN ([PKIREQ], [SAC]), so "10.0.0.1" as a
// dNSName would only ever fail name matching.
func CheckDNSName(name string, allowWildcard bool) error {
	if name == "" {
		return fmt.Errorf("empty DNS name")
	}
	if ip, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return fmt.Errorf("%q is an IP address, not a DNS name: Configuration Manager needs FQDNs in the certificate (no CMG role takes an IP address SAN)", ip)
	}
	if len(name) > 253 {
		return fmt.Errorf("DNS name %q is %d characters; at most 253", name, len(name))
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("DNS name %q is not fully qualified (want host.domain)", name)
	}
	if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("DNS name %q: the last label %q is all digits (an IP address?); give an FQDN", name, last)
	}
	for i, l := range labels {
		if strings.Contains(l, "*") {
			switch {
			case !allowWildcard:
				return fmt.Errorf("DNS name %q: this role does not allow wildcards", name)
			case i != 0 || l != "*":
				return fmt.Errorf("DNS name %q: a wildcard must be the whole leftmost label, as in *.contoso.com", name)
			case len(labels) < 3:
				return fmt.Errorf("DNS name %q: a wildcard needs at least two labels after it", name)
			}
			continue
		}
		if !labelRE.MatchString(l) {
			return fmt.Errorf("DNS name %q: label %q must be 1-63 letters, digits or inner dashes", name, l)
		}
	}
	return nil
}

var cmgPrefixRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// CheckCMGServiceName checks the CMG naming rule: the first label of the
// CN becomes the Azure deployment (and Key Vault) name prefix, which must be
// 3-24 lower-case letters and digits with no dash ([SAC]; [SUPP] allows more,
// the stricter rule is safe). A wildcard CN is checked elsewhere: its prefix
// is typed in the wizard.
func CheckCMGServiceName(cn string) error {
	if strings.HasPrefix(cn, "*.") {
		return nil
	}
	prefix, _, _ := strings.Cut(cn, ".")
	if !cmgPrefixRE.MatchString(prefix) {
		return fmt.Errorf("CMG service name %q: first label %q must be 3-24 lower-case letters and digits, no dash (it becomes the Azure deployment name %s.<region>.cloudapp.azure.com)", cn, prefix, prefix)
	}
	return nil
}
