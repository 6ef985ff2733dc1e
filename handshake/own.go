package handshake

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Own are the user's certificates that replace the lab's for a run ("bring
// your own"): nil fields keep the lab's.
type Own struct {
	CMG, MP, CP, Client *tls.Certificate
	// Roots are the user's trusted roots: added to the client's, the MP's
	// and the connection point's root stores and uploaded to the CMG.
	Roots []*x509.Certificate
	// Intermediates are uploaded to the CMG with the roots (the
	// intermediates inside the certificate files are too).
	Intermediates []*x509.Certificate
}

// OwnScenarios are the scenarios that make sense with the user's
// certificates: the others change a lab certificate (revoke, expire) or
// a store the user's files do not describe.
var OwnScenarios = []string{Happy, "user-token-fallback", "pki-client-preferred", "ccm-token-expired"}

// Whose says, per role, whether a run uses the lab's certificate or the
// user's.
type Whose struct {
	Role    string `json:"role"`
	Source  string `json:"source"` // "lab" or "yours"
	Subject string `json:"subject"`
}

// WithOwn returns a copy of m using o's certificates, and who provides
// each role's.
func (m *Materials) WithOwn(o Own) (*Materials, []Whose, error) {
	n := *m
	var whose []Whose
	for _, r := range []struct {
		role string
		own  *tls.Certificate
		dst  *tls.Certificate
	}{
		{"cmg-server", o.CMG, &n.CMG},
		{"mp-https", o.MP, &n.MP},
		{"cmg-connection-point", o.CP, &n.CP},
	} {
		src := "lab"
		if r.own != nil {
			if err := checkOwn(r.role, r.own); err != nil {
				return nil, nil, err
			}
			*r.dst, src = *r.own, "yours"
		}
		whose = append(whose, Whose{Role: r.role, Source: src, Subject: r.dst.Leaf.Subject.String()})
	}
	if o.Client != nil {
		if err := checkOwn("pki-client", o.Client); err != nil {
			return nil, nil, err
		}
		c := *o.Client
		n.Client = &c
		whose = append(whose, Whose{Role: "pki-client", Source: "yours", Subject: c.Leaf.Subject.String()})
	} else if n.Client != nil {
		whose = append(whose, Whose{Role: "pki-client", Source: "lab", Subject: n.Client.Leaf.Subject.String()})
	}
	if len(n.CMG.Leaf.DNSNames) == 0 || len(n.MP.Leaf.DNSNames) == 0 {
		return nil, nil, errors.New("handshake: the CMG and MP certificates need a DNS name in the SAN")
	}
	n.CMGName, n.MPName = hostFor(n.CMG.Leaf.DNSNames[0], "cmg"), hostFor(n.MP.Leaf.DNSNames[0], "mp")
	n.extraRoots = append(append([]*x509.Certificate(nil), m.extraRoots...), o.Roots...)
	n.extraInters = append(append([]*x509.Certificate(nil), m.extraInters...), o.Intermediates...)
	for _, c := range []*tls.Certificate{o.CMG, o.MP, o.CP, o.Client} {
		if c == nil {
			continue
		}
		for _, d := range c.Certificate[1:] {
			if x, err := x509.ParseCertificate(d); err == nil {
				n.extraInters = append(n.extraInters, x)
			}
		}
	}
	return &n, whose, nil
}

func checkOwn(role string, c *tls.Certificate) error {
	if c.Leaf == nil || c.PrivateKey == nil {
		return fmt.Errorf("handshake: your %s certificate needs its private key", role)
	}
	return nil
}

// hostFor turns a wildcard SAN into a host name under it.
func hostFor(name, label string) string {
	if strings.HasPrefix(name, "*.") {
		return label + name[1:]
	}
	return name
}
