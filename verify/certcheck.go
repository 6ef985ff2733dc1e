package verify

import (
	"encoding/asn1"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/internal/certio"
	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/profiles"
)

// Helpers of CheckCertificate, and the report of an input that holds no
// certificate to judge.

// namesNotIn returns the expected names that are not among the chain's
// name mismatches: the profile rules judge those, so that a missing name
// is reported once (chain_name_mismatch), not also as e_mp_fqdn_missing.
func namesNotIn(names []string, mismatched []NameCheck) []string {
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(mismatched, func(nc NameCheck) bool { return strings.EqualFold(nc.Name, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// cmgTrustedNotApplicable says why the CMG's trusted certificates do not
// concern a certificate judged as p with the chain usages: only PKI clients
// authenticate to the CMG with a client certificate (cmg-reference.md §1,
// "CMG trusted client roots": only needed if any client uses PKI auth;
// cmg-failures.md F16). The CMG server certificate, site systems and the
// connection point (whose client certificate authenticates to the HTTPS
// MP, F17) are not judged against them, nor an Entra device (token
// authentication). With no profile, a chain checked for clientAuth is a
// client chain. It returns "" when the check applies.
func cmgTrustedNotApplicable(p *profiles.Profile, usages []asn1.ObjectIdentifier) string {
	if p == nil {
		if slices.ContainsFunc(usages, func(u asn1.ObjectIdentifier) bool { return u.Equal(EKUClientAuth) }) {
			return ""
		}
		return "a certificate checked without clientAuth (--profile none and no --eku clientAuth)"
	}
	if p.Role == profiles.PKIClient {
		return ""
	}
	return "a " + string(p.Role) + " certificate"
}

// CheckUnopenedInput is the report of an input file that holds no
// certificate to judge: a PFX that the password does not open
// (e_pfx_wrong_password) or that holds no private key
// (e_pfx_no_private_key); s is what ReadInput returned, with s.Err set.
// The report has the input and its findings only: no profile, no chain.
func CheckUnopenedInput(s InputSubject, at time.Time, env lint.Env) (*Report, error) {
	if s.Err == nil || s.PFX == nil {
		return nil, errors.New("verify: CheckUnopenedInput needs a PFX that could not be opened")
	}
	if env.At.IsZero() {
		env.At = at
	}
	rep := &Report{Schema: ReportSchema, Kind: "cert", At: at,
		Input: &Input{File: s.Name, Format: certio.FormatPKCS12, PFX: s.PFX, KeyFile: s.KeyFile}}
	rep.CMVersion = env.CMVersion
	rep.add(OriginInput, CheckInput(s, env)...)
	return rep.finish(), nil
}
