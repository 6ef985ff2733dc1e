package handshake

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cmgpki/cmgpki/lint"
)

// Scenario is a deployment variant with its expected outcome.
type Scenario struct {
	Name        string
	Description string
	Expected    Status
	// FailingStep is the step expected to fail ("" for a pass).
	FailingStep string
	// Code is the Windows error expected at the failing step, zero when
	// none applies (an HTTP refusal).
	Code  lint.WinError
	setup func(m *Materials, w *world, at *time.Time) error
}

// Happy is the name of the default scenario.
const Happy = "happy-device-token"

var scenarios = []Scenario{
	{Name: Happy, Description: "Entra-joined device: device token, CCM token, location, registration, renewal, security settings", Expected: Pass,
		setup: func(*Materials, *world, *time.Time) error { return nil }},
	{Name: "user-token-fallback", Description: "device token refused (server app not enabled for device tokens): the client falls back to the user token", Expected: Pass,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.deviceTokens = false; return nil }},
	{Name: "pki-client-preferred", Description: "a valid PKI client certificate wins over Entra: MutualAuth path, no token", Expected: Pass,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			if m.Client == nil {
				return errors.New("the lab has no pki-client certificate")
			}
			w.pkiClient = m.Client
			return nil
		}},
	{Name: "third-party-cmg-cert", Description: "CMG certificate from a public CA whose root is already in the client's default store: passes with no import", Expected: Pass,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			w.cmgCert = m.publicCMG
			w.clientRoots = []*x509.Certificate{m.publicRoot}
			return nil
		}},
	{Name: "ccm-token-expired", Description: "the client sends its expired CCM token once: the CMG refuses it (401), the client renews", Expected: Pass,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.sendExpiredFirst = true; return nil }},
	{Name: "root-missing-on-client", Description: "the CMG certificate's root CA is not in the client's Trusted Root store", Expected: Fail, FailingStep: StepCMGTLS, Code: lint.UntrustedRoot,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			w.clientRoots = []*x509.Certificate{m.publicRoot}
			return nil
		}},
	{Name: "crl-unreachable", Description: "the CDP and OCSP URLs cannot be reached from the internet and the client checks revocation", Expected: Fail, FailingStep: StepCMGTLS, Code: lint.RevocationOffline,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.revocationDown = true; return nil }},
	{Name: "no-crl-check-bootstrap", Description: "the same with ccmsetup /NoCRLCheck: bootstrap passes, then the site's CRL checking applies after the security settings refresh", Expected: Fail, FailingStep: StepSecSettings, Code: lint.RevocationOffline,
		setup: func(_ *Materials, w *world, _ *time.Time) error {
			w.revocationDown, w.noCRLCheck = true, true
			return nil
		}},
	{Name: "cmg-cert-revoked", Description: "the CMG server certificate is revoked", Expected: Fail, FailingStep: StepCMGTLS, Code: lint.Revoked,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			w.revoked = append(w.revoked, m.CMG.Leaf)
			return nil
		}},
	{Name: "cmg-cert-expired", Description: "the CMG server certificate has expired", Expected: Fail, FailingStep: StepCMGTLS, Code: lint.Expired,
		setup: func(m *Materials, _ *world, at *time.Time) error {
			*at = m.CMG.Leaf.NotAfter.Add(time.Hour)
			return nil
		}},
	{Name: "name-mismatch", Description: "the client's CCMHOSTNAME names the CMG by a name its certificate does not carry", Expected: Fail, FailingStep: StepCMGTLS, Code: lint.NameMismatch,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.cmgHost = "contoso-cmg.cloudapp.net"; return nil }},
	{Name: "wpj-missing", Description: "no WPJ certificate (device Entra-registered, not joined) and no PKI certificate: no Entra token is requested", Expected: Fail, FailingStep: StepAuth,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.wpj = nil; return nil }},
	{Name: "tenant-not-onboarded", Description: "the device's tenant is not onboarded in ConfigMgr: AADAuthInfo returns nothing", Expected: Fail, FailingStep: StepAADInfo,
		setup: func(_ *Materials, w *world, _ *time.Time) error {
			w.onboardedTenant = "2ca9a796-a1a6-43ec-88f1-5935b32155c5"
			return nil
		}},
	{Name: "cp-cert-untrusted-by-mp", Description: "the MP does not trust the connection point's client certificate: 403 CMGConnector_Clientcertificaterequired", Expected: Fail, FailingStep: StepCCMToken,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			w.mpRoots = []*x509.Certificate{m.publicRoot}
			return nil
		}},
	{Name: "pki-client-revoked", Description: "PKI client whose certificate is revoked, installed with /NoCRLCheck (so it does not check its own certificate), with \"Verify client certificate revocation\" on at the CMG: the MutualAuth request is refused", Expected: Fail, FailingStep: StepLocation,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			if m.Client == nil {
				return errors.New("the lab has no pki-client certificate")
			}
			// With revocation checking on, the client itself would leave
			// the revoked certificate out at selection (and use Entra).
			w.pkiClient, w.revoked, w.noCRLCheck = m.Client, append(w.revoked, m.Client.Leaf), true
			return nil
		}},
	{Name: "entra-token-expired", Description: "the Entra token is past its lifetime when it reaches CCM_STS: 401 CMGService_Invalid_Token with the lifetime-validation line", Expected: Fail, FailingStep: StepCCMToken,
		setup: func(_ *Materials, w *world, _ *time.Time) error { w.staleEntraToken = true; return nil }},
	{Name: "intermediate-not-uploaded", Description: "PKI client whose issuing CA was not uploaded to the CMG: the MutualAuth request is refused", Expected: Fail, FailingStep: StepLocation,
		setup: func(m *Materials, w *world, _ *time.Time) error {
			if m.Client == nil {
				return errors.New("the lab has no pki-client certificate")
			}
			w.pkiClient, w.cmgIntermediates = m.Client, nil
			return nil
		}},
}

// Scenarios lists the scenarios in matrix order.
func Scenarios() []Scenario { return append([]Scenario(nil), scenarios...) }

// Names lists the scenario names.
func Names() []string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.Name)
	}
	return out
}

// Find returns the scenario called name.
func Find(name string) (Scenario, error) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, nil
		}
	}
	n := Names()
	sort.Strings(n)
	return Scenario{}, fmt.Errorf("handshake: unknown scenario %q (one of %v, or all)", name, n)
}

// Options are the inputs of a run.
type Options struct {
	// At is the simulated time the run starts at. Required: nothing here
	// reads the wall clock.
	At time.Time
	// NoCRLCheck is ccmsetup's /NoCRLCheck (bootstrap without revocation
	// checking), on top of the scenario's.
	NoCRLCheck bool
	// SiteNoCRLCheck clears the site's "Clients check the CRL for site
	// systems" (the security settings refresh then keeps checking off).
	SiteNoCRLCheck bool
}

// Run runs scenario name against m: it starts the servers, runs the client
// flow and stops every server before returning, also after an error.
func Run(ctx context.Context, m *Materials, name string, o Options) (*Flow, error) {
	if o.At.IsZero() {
		return nil, errors.New("handshake: Options.At is required")
	}
	sc, err := Find(name)
	if err != nil {
		return nil, err
	}
	w := defaultWorld(m)
	at := o.At
	if err := sc.setup(m, w, &at); err != nil {
		return nil, fmt.Errorf("handshake: scenario %s: %w", name, err)
	}
	w.noCRLCheck = w.noCRLCheck || o.NoCRLCheck
	w.siteCRLCheck = w.siteCRLCheck && !o.SiteNoCRLCheck
	e, err := start(ctx, m, w, at)
	if err != nil {
		return nil, err
	}
	defer e.close()
	f := &Flow{Schema: Schema, Scenario: name}
	c := &client{e: e, f: f, crlCheck: !w.noCRLCheck}
	c.run(ctx)
	if !m.inLab(m.CP.Leaf) {
		f.Notes = append(f.Notes, "the MP (IIS) checks the revocation of the connection point's certificate; yours is not checked here, as its CRL and OCSP URLs are not served: make them reachable from the MP")
	}
	f.Log = e.logs.all()
	f.Finish()
	return f, nil
}

// RunMatrix runs the named scenarios (nil: all) one after the other.
func RunMatrix(ctx context.Context, m *Materials, names []string, o Options) (*Matrix, error) {
	if names == nil {
		names = Names()
	}
	mx := &Matrix{Schema: Schema}
	for _, n := range names {
		sc, err := Find(n)
		if err != nil {
			return nil, err
		}
		f, err := Run(ctx, m, n, o)
		if err != nil {
			return nil, err
		}
		mx.Scenarios = append(mx.Scenarios, ScenarioResult{Name: n, Description: sc.Description, Expected: sc.Expected, Got: f.Result,
			ExpectedStep: sc.FailingStep, FailingStep: f.FailingStep, Code: CodeText(f.Steps), Windows: f.Code, Steps: f.Steps, Notes: f.Notes, Log: f.Log})
	}
	return mx, nil
}
