package verify

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// validDNSName reports whether s is a dNSName in preferred name syntax (RFC
// 5280 4.2.1.6, RFC 1034 3.5: letters, digits, hyphens; no empty labels),
// allowing a whole "*" leftmost label when wildcard is set.
func validDNSName(s string, wildcard bool) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
		if l == "*" && i == 0 && wildcard {
			continue
		}
		for j := 0; j < len(l); j++ {
			ch := l[j]
			ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-'
			if !ok {
				return false
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	return true
}

// matchHost matches a host name against a (possibly wildcard) DNS
// identifier, RFC 6125 style: only a whole leftmost "*" label, matching one
// label, and not directly under a top-level domain.
func matchHost(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !validDNSName(pattern, true) {
		return false
	}
	if pattern == host {
		return true
	}
	if !strings.HasPrefix(pattern, "*.") {
		return false
	}
	base := pattern[2:]
	if !strings.Contains(base, ".") { // *.com
		return false
	}
	i := strings.IndexByte(host, '.')
	return i > 0 && host[i+1:] == base
}

// matchName checks the expected name against the leaf as Windows does: for
// a DNS name the DNS SANs, and the subject CN only when the certificate has
// no DNS SAN; for an IP address the IP SANs, and the CN only when there is no
// SAN at all.
func matchName(leaf *x509.Certificate, name string) NameCheck {
	nc := NameCheck{Name: name}
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		for _, a := range leaf.IPAddresses {
			if a.Equal(ip) {
				nc.Matched, nc.MatchedBy = true, "ip_san"
				return nc
			}
		}
		if len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.EmailAddresses)+len(leaf.URIs) == 0 {
			if cn := net.ParseIP(leaf.Subject.CommonName); cn != nil && cn.Equal(ip) {
				nc.Matched, nc.MatchedBy = true, "cn_fallback"
				return nc
			}
		}
		nc.Detail = fmt.Sprintf("no IP SAN equals %s (IP SANs: %s)", name, ipList(leaf.IPAddresses))
		return nc
	}
	for _, d := range leaf.DNSNames {
		if matchHost(d, name) {
			nc.Matched, nc.MatchedBy = true, "dns_san"
			return nc
		}
	}
	if len(leaf.DNSNames) == 0 {
		if cn := leaf.Subject.CommonName; cn != "" && matchHost(cn, name) {
			nc.Matched, nc.MatchedBy = true, "cn_fallback"
			return nc
		}
		nc.Detail = fmt.Sprintf("no DNS SAN, and the subject CN %q does not match %q", leaf.Subject.CommonName, name)
		return nc
	}
	nc.Detail = fmt.Sprintf("%q matches no DNS SAN (%s); the CN is not used when a DNS SAN is present", name, strings.Join(leaf.DNSNames, ", "))
	return nc
}

func ipList(ips []net.IP) string {
	if len(ips) == 0 {
		return "none"
	}
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

// validConstraint checks the syntax of a name constraint base.
func validConstraint(gn generalName) error {
	switch gn.tag {
	case gnDNS:
		s := string(gn.data)
		if s == "" {
			return nil // matches every name
		}
		if !validDNSName(s, false) {
			return fmt.Errorf("invalid dNSName constraint %q", s)
		}
	case gnIP:
		if len(gn.data) != 8 && len(gn.data) != 32 {
			return fmt.Errorf("invalid iPAddress constraint of %d bytes", len(gn.data))
		}
		n := len(gn.data) / 2
		ip, mask := gn.data[:n], gn.data[n:]
		ones, bitsLen := net.IPMask(mask).Size()
		if ones == 0 && bitsLen == 0 && !allZero(mask) {
			return fmt.Errorf("iPAddress constraint with a non-contiguous mask")
		}
		for i := range ip {
			if ip[i]&^mask[i] != 0 {
				return fmt.Errorf("iPAddress constraint %s with host bits set", net.IP(ip))
			}
		}
	case gnRFC822:
		s := string(gn.data)
		if s == "" {
			return errors.New("empty rfc822Name constraint")
		}
		if strings.Count(s, "@") > 1 {
			return fmt.Errorf("invalid rfc822Name constraint %q", s)
		}
		if i := strings.IndexByte(s, '@'); i >= 0 {
			if i == 0 || !validDNSName(s[i+1:], false) {
				return fmt.Errorf("invalid rfc822Name constraint %q", s)
			}
		} else if !validDNSName(strings.TrimPrefix(s, "."), false) {
			return fmt.Errorf("invalid rfc822Name constraint %q", s)
		}
	case gnDirectory:
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(gn.data, &rdn); err != nil || len(rest) > 0 {
			return errors.New("invalid directoryName constraint")
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// subjectNames lists the names of c that name constraints apply to: the SAN
// entries, the subject DN when it is not empty, and emailAddress attributes
// of the subject as rfc822 names.
func subjectNames(c *x509.Certificate, ci *certInfo) []generalName {
	var out []generalName
	out = append(out, ci.san...)
	if !ci.emptySubject {
		out = append(out, generalName{tag: gnDirectory, data: c.RawSubject})
		for _, a := range c.Subject.Names {
			if a.Type.Equal(oidEmailAddressAttr) {
				if s, ok := a.Value.(string); ok {
					out = append(out, generalName{tag: gnRFC822, data: []byte(s)})
				}
			}
		}
	}
	return out
}

// checkNameConstraints returns the violations of nc by the names of c.
func checkNameConstraints(nc *nameConstraints, names []generalName) (TrustStatus, []string) {
	var st TrustStatus
	var why []string
	for _, n := range names {
		for _, e := range nc.excluded {
			if e.tag != n.tag {
				continue
			}
			m, err := constraintMatch(e, n, true)
			if err != nil {
				st |= TrustInvalidNameConstraints
				why = append(why, err.Error())
			} else if m {
				st |= TrustHasExcludedNameConstraint
				why = append(why, fmt.Sprintf("%s is in an excluded subtree (%s)", nameString(n), nameString(e)))
			}
		}
		var permittedOfType, ok bool
		for _, p := range nc.permitted {
			if p.tag != n.tag {
				continue
			}
			permittedOfType = true
			m, err := constraintMatch(p, n, false)
			if err != nil {
				st |= TrustInvalidNameConstraints
				why = append(why, err.Error())
			}
			ok = ok || m
		}
		if permittedOfType && !ok {
			st |= TrustHasNotPermittedNameConstraint
			why = append(why, fmt.Sprintf("%s is not in a permitted subtree", nameString(n)))
		}
	}
	return st, why
}

func nameString(n generalName) string {
	switch n.tag {
	case gnDNS:
		return "DNS:" + string(n.data)
	case gnRFC822:
		return "email:" + string(n.data)
	case gnURI:
		return "URI:" + string(n.data)
	case gnIP:
		if len(n.data) == 8 || len(n.data) == 32 {
			k := len(n.data) / 2
			ones, _ := net.IPMask(n.data[k:]).Size()
			return fmt.Sprintf("IP:%s/%d", net.IP(n.data[:k]), ones)
		}
		return "IP:" + net.IP(n.data).String()
	case gnDirectory:
		var rdn pkix.RDNSequence
		asn1.Unmarshal(n.data, &rdn)
		return "DirName:" + rdn.String()
	case gnOtherName:
		return "otherName"
	}
	return fmt.Sprintf("GeneralName[%d]", n.tag)
}

// constraintMatch reports whether name n is inside the subtree c. An invalid
// name is an error. For excluded subtrees, a wildcard DNS name matches when
// any name it covers would.
func constraintMatch(c, n generalName, excluded bool) (bool, error) {
	switch n.tag {
	case gnDNS:
		name := strings.ToLower(strings.TrimSuffix(string(n.data), "."))
		if !validDNSName(name, true) {
			return false, fmt.Errorf("invalid DNS name %q", string(n.data))
		}
		cs := strings.ToLower(string(c.data))
		if dnsInSubtree(name, cs) {
			return true, nil
		}
		if excluded && strings.HasPrefix(name, "*.") {
			// *.example.com covers bar.example.com.
			base := name[2:]
			if i := strings.IndexByte(cs, '.'); i > 0 && cs[i+1:] == base {
				return true, nil
			}
		}
		return false, nil
	case gnIP:
		if len(n.data) != 4 && len(n.data) != 16 {
			return false, fmt.Errorf("invalid IP address of %d bytes", len(n.data))
		}
		if len(c.data) != 2*len(n.data) {
			return false, nil
		}
		k := len(n.data)
		for i := 0; i < k; i++ {
			if n.data[i]&c.data[k+i] != c.data[i] {
				return false, nil
			}
		}
		return true, nil
	case gnRFC822:
		addr := string(n.data)
		i := strings.LastIndexByte(addr, '@')
		if i <= 0 || strings.Count(addr, "@") != 1 || !validDNSName(addr[i+1:], false) {
			return false, fmt.Errorf("invalid email address %q", addr)
		}
		local, domain := addr[:i], strings.ToLower(addr[i+1:])
		cs := string(c.data)
		if j := strings.IndexByte(cs, '@'); j >= 0 {
			return cs[:j] == local && strings.EqualFold(cs[j+1:], domain), nil
		}
		if strings.HasPrefix(cs, ".") {
			return strings.HasSuffix(domain, strings.ToLower(cs)), nil
		}
		return strings.EqualFold(domain, cs), nil
	case gnURI:
		u, err := url.Parse(string(n.data))
		if err != nil || u.Host == "" {
			return false, fmt.Errorf("URI %q has no host", string(n.data))
		}
		host := strings.ToLower(u.Hostname())
		cs := strings.ToLower(string(c.data))
		if strings.HasPrefix(cs, ".") {
			return strings.HasSuffix(host, cs), nil
		}
		return host == cs, nil
	case gnDirectory:
		return dnInSubtree(n.data, c.data)
	case gnOtherName:
		// Only an identical otherName type is comparable; compare whole
		// values (Windows supports the UPN form; others are opaque).
		ct, _ := otherNameType(c.data)
		nt, _ := otherNameType(n.data)
		if ct == nil || nt == nil || !ct.Equal(nt) {
			return false, nil
		}
		if excluded {
			return true, nil
		}
		return bytes.Equal(c.data, n.data), nil
	}
	return false, nil
}

func otherNameType(data []byte) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	_, err := asn1.Unmarshal(data, &oid)
	return oid, err
}

func dnsInSubtree(name, c string) bool {
	if c == "" {
		return true
	}
	return name == c || strings.HasSuffix(name, "."+c)
}

// dnInSubtree reports whether the Name name begins with the RDNs of c.
func dnInSubtree(name, c []byte) (bool, error) {
	var n, cr pkix.RDNSequence
	if rest, err := asn1.Unmarshal(name, &n); err != nil || len(rest) > 0 {
		return false, errors.New("invalid directory name")
	}
	if rest, err := asn1.Unmarshal(c, &cr); err != nil || len(rest) > 0 {
		return false, errors.New("invalid directoryName constraint")
	}
	if len(cr) > len(n) {
		return false, nil
	}
	for i := range cr {
		if !rdnEqual(cr[i], n[i]) {
			return false, nil
		}
	}
	return true, nil
}

func rdnEqual(a, b pkix.RelativeDistinguishedNameSET) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x.Type.Equal(y.Type) && strings.EqualFold(strings.TrimSpace(fmt.Sprint(x.Value)), strings.TrimSpace(fmt.Sprint(y.Value))) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
