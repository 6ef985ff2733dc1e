package profiles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cmgpki/cmgpki/internal/pkitest"
	"github.com/cmgpki/cmgpki/lint"
)

// The requirement judges any certificate, not cmgpki's own choices: three
// certificates a real CA may well issue, each of which cmgpki once refused.

func thirdPartyCert(t *testing.T, role Role, mutate func(*x509.Certificate), key crypto.Signer) *x509.Certificate {
	t.Helper()
	nb := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "mp.contoso.com"},
		NotBefore: nb, NotAfter: nb.Add(365 * 24 * time.Hour),
	}
	if err := MustGet(role).Apply(tpl); err != nil {
		t.Fatal(err)
	}
	mutate(tpl)
	c := pkitest.Certificate(t, tpl, tpl, key.Public(), key)
	return c
}

func noErrors(t *testing.T, c *x509.Certificate, role Role) lint.Report {
	t.Helper()
	rep := Lint(c, MustGet(role), lint.Env{At: at})
	for _, r := range rep.AtLeast(lint.Error) {
		t.Errorf("%s: %s %s (%s)", r.Rule, r.Status, r.Details, r.Citation)
	}
	return rep
}

// An MP certificate whose CA publishes no CDP on purpose is at most a
// warning: CDP presence is the CA's choice, and revocation checking can be
// off for site systems.
func TestCANoCDPIsNotAnError(t *testing.T) {
	rk, _ := testKeys(t)
	c := thirdPartyCert(t, MPHTTPS, func(c *x509.Certificate) {
		c.DNSNames = []string{"mp.contoso.com"}
		c.IssuingCertificateURL = []string{"http://pki.contoso.com/ca.cer"}
	}, rk)
	rep := noErrors(t, c, MPHTTPS)
	found := false
	for _, r := range rep.Results {
		if r.Rule == "w_cdp_missing" && r.Status == lint.Warn {
			found = true
			// No pointer at all: Windows cannot check, CRYPT_E_NO_REVOCATION_CHECK.
			if r.WinError != lint.NoRevocationCheck {
				t.Errorf("w_cdp_missing Windows error = %+v, want %+v", r.WinError, lint.NoRevocationCheck)
			}
		}
	}
	if !found {
		t.Error("no w_cdp_missing warning for a revocation-checked role without a CDP")
	}
}

// A P-521 root is what Windows accepts, even though cmgpki cannot generate
// one.
func TestP521RootAccepted(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := thirdPartyCert(t, RootCA, func(c *x509.Certificate) {
		c.Subject.CommonName = "Contoso Root CA P-521"
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}, k)
	noErrors(t, c, RootCA)
}

// An issuing CA with only keyCertSign and cRLSign meets the cited
// requirement (RFC 5280 4.2.1.3); digitalSignature is cmgpki's own choice.
func TestCAWithoutDigitalSignatureAccepted(t *testing.T) {
	rk, _ := testKeys(t)
	for _, role := range []Role{RootCA, IssuingCA, WPJCA} {
		c := thirdPartyCert(t, role, func(c *x509.Certificate) {
			c.Subject.CommonName = "Contoso Issuing CA"
			c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
			c.CRLDistributionPoints = []string{"http://pki.contoso.com/root.crl"}
			c.IssuingCertificateURL = []string{"http://pki.contoso.com/root.cer"}
		}, rk)
		noErrors(t, c, role)
	}
}

// Fix texts speak to the owner of any certificate, not to a cmgpki user.
func TestFixTextsAreNeutral(t *testing.T) {
	for _, m := range Rules().Rules() {
		for _, bad := range []string{"cmgpki", "--base-url", "reissue with"} {
			if strings.Contains(strings.ToLower(m.Fix), strings.ToLower(bad)) {
				t.Errorf("%s: fix %q mentions %q; speak to any certificate (\"ask your CA for ...\")", m.Name, m.Fix, bad)
			}
		}
	}
}

// Validity is judged at Env.At, the moment the caller gives.
func TestValidityAtEnvAt(t *testing.T) {
	rk, _ := testKeys(t)
	c := thirdPartyCert(t, MPHTTPS, func(c *x509.Certificate) {
		c.DNSNames = []string{"mp.contoso.com"}
		c.CRLDistributionPoints = []string{"http://pki.contoso.com/ca.crl"}
		c.IssuingCertificateURL = []string{"http://pki.contoso.com/ca.cer"}
	}, rk)
	for _, tc := range []struct {
		name   string
		at     time.Time
		want   lint.Status
		detail string
	}{
		{"inside", c.NotBefore.Add(time.Hour), lint.Pass, ""},
		{"at_not_before", c.NotBefore, lint.Pass, ""},
		{"before", c.NotBefore.Add(-time.Second), lint.Error, "not yet valid"},
		{"after", c.NotAfter.Add(time.Second), lint.Error, "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := LintSubject(Subject{Cert: c, Profile: MustGet(MPHTTPS), Chain: []*x509.Certificate{c}}, lint.Env{At: tc.at})
			for _, r := range rep.Results {
				if r.Rule != "e_not_valid_at" {
					continue
				}
				if r.Status != tc.want || !strings.Contains(r.Details, tc.detail) {
					t.Errorf("e_not_valid_at = %s %q, want %s %q", r.Status, r.Details, tc.want, tc.detail)
				}
				if r.Status == lint.Error && r.WinError != lint.Expired {
					t.Errorf("Windows error %+v, want %+v", r.WinError, lint.Expired)
				}
				return
			}
			t.Fatal("e_not_valid_at did not run")
		})
	}
}
