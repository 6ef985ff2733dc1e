package handshake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/lint"
	"github.com/cmgpki/cmgpki/verify"
)

// endpointID is the CMG's MutualAuth endpoint ID in URLs (the documented
// example's).
const endpointID = "72186325152220500"

// clientGUID is the simulated client's SMS unique ID.
const clientGUID = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"

// client is the ccmsetup / CCM client.
type client struct {
	e        *env
	f        *Flow
	crlCheck bool
	pki      *tls.Certificate
	mode     string // "pki", "device" or "user"
	entra    string // Entra access token
	ccm      string // CCM token
	ccmExp   time.Time
	siteCRL  *bool // CRL checking from the location reply
	// lastChain is the verdict on the CMG's certificate of the latest
	// connection.
	lastChain *verify.ChainResult
	lastErr   *verify.ChainError
}

func (c *client) log(file, format string, args ...any) { c.e.logs.add(file, format, args...) }

// result is what one request through the CMG gave.
type result struct {
	status int
	body   []byte
	tlsErr *verify.ChainError // the client refused the CMG's certificate
	err    error              // any other transport error
}

func (r result) reason() string {
	line, _, _ := strings.Cut(string(r.body), "\n")
	return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", r.status, strings.TrimSpace(line)))
}

// cmgTLS is the client's TLS configuration toward the CMG: the server
// certificate is judged by verify (local roots, revocation unless
// NoCRLCheck), on every connection.
func (c *client) cmgTLS(ctx context.Context, host string) *tls.Config {
	tc := &tls.Config{ServerName: host, InsecureSkipVerify: true, Time: c.e.clk.Now, ClientSessionCache: c.e.clientSessions,
		VerifyConnection: func(cs tls.ConnectionState) error {
			o := verify.ChainOptions{Roots: c.e.w.clientRoots, Intermediates: cs.PeerCertificates[1:], At: c.e.clk.Now(),
				Name: host, Usages: []verify.OID{verify.EKUServerAuth}, Fetcher: c.e.fetcher, AIAFetch: true}
			if c.crlCheck {
				o.Revocation = verify.RevocationChainExcludeRoot
			}
			res, err := verify.ChainContext(ctx, cs.PeerCertificates[0], o)
			c.lastChain, c.lastErr = res, nil
			var ce *verify.ChainError
			if errors.As(err, &ce) {
				c.lastErr = ce
			}
			return err
		}}
	if c.pki != nil {
		cert := *c.pki
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	return tc
}

// cmg sends one request to the CMG by the name the client knows it by.
func (c *client) cmg(ctx context.Context, method, path string, body []byte, header map[string]string) result {
	host := c.e.w.cmgHost
	req, err := http.NewRequestWithContext(ctx, method, "https://"+host+path, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("User-Agent", "ConfigMgr Messaging HTTP Sender")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c.lastChain, c.lastErr = nil, nil
	resp, err := c.e.net.client(c.cmgTLS(ctx, host)).Do(req)
	var cs *tls.ConnectionState
	if err == nil {
		cs = resp.TLS
	}
	if c.lastChain != nil { // a TLS handshake reached the client's verdict
		h := newHop(CompClient, CompCMG, cs)
		h.Server, h.Client = judged(c.lastChain), presentedTLS(c.pki)
		c.e.addHop(h)
	}
	if err != nil {
		if c.lastErr != nil {
			return result{tlsErr: c.lastErr, err: err}
		}
		return result{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return result{status: resp.StatusCode, body: b}
}

func (c *client) step(id, comp string, mark int, st Status, detail string) *Step {
	return c.f.Add(Step{ID: id, Component: comp, Time: c.e.clk.Now(), Status: st, Detail: detail, Evidence: c.e.logs.since(mark), TLS: c.e.takeHops()})
}

// tlsFail records a failed step from a refused CMG certificate or a
// transport error.
func (c *client) tlsFail(id string, mark int, r result) {
	if r.tlsErr != nil {
		short := r.tlsErr.Detail
		if i := strings.Index(short, " (OCSP "); i > 0 {
			short = short[:i] // the URLs tried are in the evidence
		}
		w := r.tlsErr.Windows
		c.log(logCCMSetup, "[verify] CMG certificate chain: %s", r.tlsErr.Detail)
		c.log(logCCMSetup, "Failed in WinHttpSendRequest API, ErrorCode = 0x%x", 12175)
		c.log(logCCMSetup, "[CCMHTTP] ERROR INFO: StatusCode=0 StatusText=, WinHttpError %d, certificate error 0x%08X %s", w.WinHTTP, uint32(w.HRESULT), w.Name)
		s := c.step(id, CompClient, mark, Fail, "CMG certificate refused: "+short)
		s.Windows = verify.LintWinError(&w)
		s.Fix = r.tlsErr.Fix
		s.Proof = c.proofEndpoint()
		return
	}
	s := c.step(id, CompClient, mark, Fail, "cannot reach the CMG: "+r.err.Error())
	s.Fix = "make " + c.e.w.cmgHost + " resolve to the CMG and port 443 reachable"
}

func (c *client) proofEndpoint() string {
	roots := "--roots " + filepath.Join(c.e.m.Lab.Path, "ca")
	switch leaf := c.e.w.cmgCert.Leaf; {
	case leaf == c.e.m.publicCMG.Leaf:
		roots = "--system-roots" // a public CA's certificate: the client's default store
	case !c.e.m.inLab(leaf):
		roots = "--roots YOUR-ROOTS"
	}
	p := fmt.Sprintf("cmgpki verify endpoint https://%s %s", c.e.w.cmgHost, roots)
	if !c.crlCheck {
		p += " --no-crl-check"
	}
	return p
}

func (c *client) proofCert(role string) string {
	d := c.e.m.Lab
	for _, e := range d.Manifest.Certificates {
		if e.Role == role {
			f := e.Files.Chain
			if f == "" {
				f = e.Files.Cert
			}
			return fmt.Sprintf("cmgpki verify cert %s --roots %s --profile %s", d.Abs(f), filepath.Join(d.Path, "ca"), role)
		}
	}
	return ""
}

// run is the flow. Every step is recorded; after the first failure the
// remaining steps are recorded as not reached.
func (c *client) run(ctx context.Context) {
	order := []struct{ id, comp string }{{StepCMGTLS, CompClient}, {StepAADInfo, CompCMG}, {StepAuth, CompClient}, {StepCCMToken, CompMP},
		{StepLocation, CompMP}, {StepRegister, CompMP}, {StepRenewal, CompClient}, {StepSecSettings, CompClient}}
	defer func() {
		for _, o := range order {
			if c.f.Step(o.id) == nil {
				c.f.Add(Step{ID: o.id, Component: o.comp, Time: c.e.clk.Now(), Status: Skip, Detail: "not reached"})
			}
		}
	}()
	steps := []func(context.Context) bool{c.connect, c.authChoice, c.ccmToken, c.location, c.register, c.renew, c.securitySettings}
	for _, s := range steps {
		if !s(ctx) {
			return
		}
	}
}

// selectPKI runs verify's client certificate selection on the client's
// PKI certificate, as the client does before choosing Entra.
func (c *client) selectPKI(ctx context.Context) (*tls.Certificate, string) {
	w := c.e.w
	if w.pkiClient == nil {
		return nil, "no PKI client authentication certificate in the computer's Personal store"
	}
	cand := verify.Candidate{Name: "Personal store", Cert: w.pkiClient.Leaf, HasKey: true}
	for _, d := range w.pkiClient.Certificate[1:] {
		if x, err := x509.ParseCertificate(d); err == nil {
			cand.Intermediates = append(cand.Intermediates, x)
		}
	}
	o := verify.SelectionOptions{At: c.e.clk.Now(), Roots: w.clientRoots, ComputerName: strings.Split(w.pkiClient.Leaf.Subject.CommonName, ".")[0]}
	if c.crlCheck {
		// The client checks its own certificate's revocation as part of
		// "valid now" (selection step 3), with the CRLs its CDPs give.
		o.Revocation = verify.RevocationChainExcludeRoot
		o.CRLs = c.fetchCRLs(ctx, append([]*x509.Certificate{w.pkiClient.Leaf}, cand.Intermediates...))
	}
	res := verify.SelectClientCertificate([]verify.Candidate{cand}, o)
	if res.Selected() == nil {
		why := res.Error
		for _, r := range res.Candidates {
			if r.Excluded != nil {
				why = r.Excluded.StepName + ": " + r.Excluded.Observed
			}
		}
		return nil, "PKI client certificate " + w.pkiClient.Leaf.Subject.CommonName + " not usable: " + why
	}
	return w.pkiClient, ""
}

// fetchCRLs downloads the CRLs of the certificates' CDPs over the
// client's network; an unreachable CDP gives no CRL (the chain then reports
// the revocation offline).
func (c *client) fetchCRLs(ctx context.Context, certs []*x509.Certificate) []*x509.RevocationList {
	var out []*x509.RevocationList
	seen := map[string]bool{}
	for _, x := range certs {
		for _, u := range x.CRLDistributionPoints {
			if seen[u] || !strings.HasPrefix(u, "http://") {
				continue
			}
			seen[u] = true
			der, err := c.e.fetcher.Fetch(ctx, u, verify.DefaultMaxCRLBytes)
			if err != nil {
				c.log(logCCMSetup, "Failed to download the CRL %s: %v", u, err)
				continue
			}
			if rl, err := x509.ParseRevocationList(der); err == nil {
				out = append(out, rl)
			}
		}
	}
	return out
}

// connect is step 1: TLS to the CMG, then AADAuthInfo (Entra clients) or
// the MutualAuth service metadata (PKI clients).
func (c *client) connect(ctx context.Context) bool {
	w := c.e.w
	c.pki, _ = c.selectPKI(ctx)
	mark := c.e.logs.mark()
	path := "/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=" + w.tenantID
	if c.pki != nil {
		path = "/CCM_Proxy_MutualAuth/ServiceMetadata"
	} else {
		c.log(logCCMSetup, "Getting AAD info from CMG '%s'", strings.ToUpper(w.cmgHost))
	}
	c.log(logCCMSetup, "SMS CCM 5.0: Host=%s, Path=%s, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0", strings.ToUpper(w.cmgHost), path)
	c.log(logCCMSetup, "Created connection on port 443")
	if c.crlCheck {
		c.log(logCCMSetup, "Enabled SSL revocation check.")
	} else {
		c.log(logCCMSetup, "Disabled SSL revocation check (/NoCRLCheck).")
	}
	r := c.cmg(ctx, "GET", path, nil, nil)
	if r.err != nil {
		c.tlsFail(StepCMGTLS, mark, r)
		return false
	}
	s := c.step(StepCMGTLS, CompClient, mark, Pass, c.chainDetail())
	s.Proof = c.proofEndpoint()
	if !c.crlCheck {
		s.Detail += "; revocation not checked (/NoCRLCheck): bootstrap only, the site's setting replaces it at the security settings refresh"
		c.f.Notes = append(c.f.Notes, "/NoCRLCheck carries only the ccmsetup bootstrap: the site's \"clients check the CRL\" setting applies after location services refresh the security settings.")
	}
	mark = c.e.logs.mark()
	if c.pki != nil {
		c.step(StepAADInfo, CompCMG, mark, Skip, "PKI client: Entra is not used")
		return true
	}
	if r.status != 200 {
		c.log(logCCMSetup, "Failed to get AAD info from CMG: %s", r.reason())
		s := c.step(StepAADInfo, CompCMG, mark, Fail, fmt.Sprintf("the CMG returned no AAD information for tenant %s (%s): the tenant is not onboarded", w.tenantID, r.reason()))
		s.HTTP = r.reason()
		s.Fix = "onboard tenant " + w.tenantID + " in Configuration Manager (Administration > Cloud Services > Microsoft Entra tenants) and create the client and server apps"
		return false
	}
	var info aadAuthInfo
	if err := json.Unmarshal(r.body, &info); err != nil || info.ClientAppID == "" {
		c.step(StepAADInfo, CompCMG, mark, Fail, "malformed AADAuthInfo reply")
		return false
	}
	c.log(logCCMSetup, "Retrieved AAD info: AADCLIENTAPPID=%s, AADRESOURCEURI=%s", info.ClientAppID, info.ResourceURI)
	c.step(StepAADInfo, CompCMG, mark, Pass, fmt.Sprintf("tenant %s onboarded: client app %s, resource %s", w.tenantID, info.ClientAppID, info.ResourceURI))
	return true
}

func (c *client) chainDetail() string {
	if c.lastChain == nil {
		return "connected"
	}
	var names []string
	for _, el := range c.lastChain.Elements {
		names = append(names, el.Cert.Subject.CommonName)
	}
	d := "CMG certificate trusted: " + strings.Join(names, " > ")
	if c.crlCheck {
		d += "; revocation checked"
	}
	return d
}

// authChoice is step 2: a valid PKI client certificate wins; otherwise a
// device token, then a user token.
func (c *client) authChoice(ctx context.Context) bool {
	mark := c.e.logs.mark()
	if c.pki != nil {
		c.mode = "pki"
		c.log(logCCMSetup, "Client is using PKI client certificate '%s' (thumbprint %s); Entra authentication is not used", c.pki.Leaf.Subject.CommonName, thumb(c.pki.Leaf))
		s := c.step(StepAuth, CompClient, mark, Pass, "PKI client certificate "+c.pki.Leaf.Subject.CommonName+" selected: installs as a PKI client over the MutualAuth path, no Entra token")
		s.Proof = c.proofCert("pki-client")
		return true
	}
	_, why := c.selectPKI(ctx)
	c.log(logCCMSetup, "%s", why)
	w := c.e.w
	if w.wpj == nil {
		c.log(logCCMSetup, "Device is not Entra joined (no WPJ certificate); no AAD token requested")
		s := c.step(StepAuth, CompClient, mark, Fail, "no PKI client certificate and no WPJ certificate: the device is Entra-registered, not joined, so no Entra token is requested")
		s.Fix = "join the device to Entra ID (dsregcmd /status: Device State AzureAdJoined : YES), or give it a PKI client authentication certificate"
		return false
	}
	c.log(logCCMSetup, "Getting AAD (device) token with: ClientId = %s, ResourceUrl = %s, AccountId = https://login.microsoftonline.com/common/oauth2/token", ClientAppID, ResourceURI)
	tok, err := c.entraToken(ctx, "device")
	if err == nil {
		c.entra, c.mode = tok, "device"
		c.log(logCCMSetup, "Retrieved AAD token for AAD device '%s'", w.wpj.Leaf.Subject.CommonName)
		c.step(StepAuth, CompEntra, mark, Pass, "device token from Entra (mutual TLS with WPJ certificate "+w.wpj.Leaf.Subject.CommonName+")")
		return true
	}
	c.log(logCCMSetup, "WAM token request failed. Status 5, Details 'AAD WAM extension error'")
	c.log(logCCMSetup, "Failed to get AAD token..")
	c.log(logCCMSetup, "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016")
	c.log(logCCMSetup, "Falling back to get user token for system...")
	c.log(logCCMSetup, "Getting AAD (user) token with: ClientId = %s, ResourceUrl = %s, AccountId = %s", ClientAppID, ResourceURI, userOID)
	tok, uerr := c.entraToken(ctx, "user")
	if uerr != nil {
		s := c.step(StepAuth, CompEntra, mark, Fail, fmt.Sprintf("no Entra token: device token refused (%v); user token refused (%v)", err, uerr))
		s.Fix = "enable the server app for device tokens (ConfigMgr 1806+, tenant settings updated), or sign a user in"
		return false
	}
	c.entra, c.mode = tok, "user"
	c.log(logCCMSetup, "Retrieved AAD token for AAD user '%s'", userOID)
	c.step(StepAuth, CompEntra, mark, Pass, fmt.Sprintf("device token refused (%v); fell back to the user token", err))
	return true
}

// entraToken asks the token service for a device or user token; the WPJ
// certificate is presented on the TLS connection (proof of possession).
func (c *client) entraToken(ctx context.Context, grant string) (string, error) {
	roots := x509.NewCertPool()
	for _, r := range c.e.w.clientRoots {
		roots.AddCert(r)
	}
	tc := &tls.Config{RootCAs: roots, ServerName: entraHost, Time: c.e.clk.Now}
	if c.e.w.wpj != nil {
		wpj := *c.e.w.wpj
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &wpj, nil }
	}
	form := url.Values{"grant_type": {grant}, "resource": {ResourceURI}, "client_id": {ClientAppID}}
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://"+entraHost+"/"+c.e.w.tenantID+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.e.net.client(tc).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	h := newHop(CompClient, CompEntra, resp.TLS)
	h.Server, h.Client = verified(resp.TLS), presentedTLS(c.e.w.wpj)
	c.e.addHop(h)
	var out map[string]string
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("token service: %s", resp.Status)
	}
	if resp.StatusCode != 200 {
		return "", errors.New(out["error_description"])
	}
	return out["access_token"], nil
}

// getCCMToken exchanges the Entra token for a CCM token through the CMG,
// the connection point and the MP's CCM_STS.
func (c *client) getCCMToken(ctx context.Context) result {
	c.log(logCCMSetup, "Getting CCM Token from STS server '%s/CCM_Proxy_MutualAuth/%s'", c.e.w.cmgHost, endpointID)
	c.log(logCCMSetup, "Getting CCM Token from https://%s/CCM_Proxy_MutualAuth/%s/CCM_STS", c.e.w.cmgHost, endpointID)
	r := c.cmg(ctx, "POST", "/CCM_Proxy_MutualAuth/"+endpointID+"/CCM_STS", nil, map[string]string{"Authorization": "Bearer " + c.entra})
	if r.err != nil || r.status != 200 {
		return r
	}
	var out struct{ Token, Expires string }
	if err := json.Unmarshal(r.body, &out); err != nil || out.Token == "" {
		return result{status: 502, body: []byte("malformed CCM_STS reply")}
	}
	c.ccm = out.Token
	c.ccmExp, _ = time.Parse(time.RFC3339, out.Expires)
	c.log(logCCMSetup, "Cached encrypted token for 'S-1-5-18'. Will expire at '%s'", c.ccmExp.Format("01/02/2006 15:04:05"))
	return r
}

func (c *client) ccmToken(ctx context.Context) bool {
	mark := c.e.logs.mark()
	if c.mode == "pki" {
		c.step(StepCCMToken, CompMP, mark, Skip, "PKI client: authenticates with its certificate, no CCM token")
		return true
	}
	if c.e.w.staleEntraToken {
		c.e.clk.Add(EntraTokenLifetime + 10*time.Minute) // past exp and the 5-minute skew
	}
	r := c.getCCMToken(ctx)
	return c.check(StepCCMToken, mark, r, fmt.Sprintf("CCM token (%s) valid until %s", c.modeName(), c.ccmExp.UTC().Format(time.RFC3339)))
}

func (c *client) modeName() string {
	if c.mode == "user" {
		return "user-device affinity (UDA)"
	}
	return c.mode
}

// check records a step from a CMG result: pass on 200, else fail with the
// component that refused.
func (c *client) check(id string, mark int, r result, okDetail string) bool {
	if r.err != nil {
		c.tlsFail(id, mark, r)
		return false
	}
	if r.status == 200 {
		comp := CompMP
		if id == StepRenewal || id == StepSecSettings {
			comp = CompClient
		}
		c.step(id, comp, mark, Pass, okDetail)
		return true
	}
	body := string(r.body)
	s := c.step(id, CompCMG, mark, Fail, r.reason())
	s.HTTP = r.reason()
	switch {
	case strings.Contains(body, errClientCertRequired):
		s.Component = CompMP
		s.Detail = "the MP refused the connection point's client certificate: " + r.reason()
		_, why, ok := strings.Cut(strings.TrimSpace(body), "\n")
		if ok {
			s.Detail += " (" + why + ")"
		}
		switch {
		case strings.Contains(why, "revoked"):
			s.Fix = "the connection point certificate is revoked: issue a new client authentication certificate for the connection point server and select it in the connection point's properties"
		case strings.Contains(why, "offline") || strings.Contains(why, "REVOCATION"):
			s.Fix = "the MP cannot check the connection point certificate's revocation (IIS always checks it): make its CDP reachable from the MP"
		default:
			s.Fix = "put the connection point certificate's root CA in the MP's Trusted Root store (and its issuing CA in Intermediate CAs)"
		}
		s.Proof = c.proofCert("cmg-connection-point")
	case strings.Contains(body, "CMGConnector_"):
		s.Component = CompCP
	case strings.Contains(body, "ClientCertificate"):
		s.Detail = "the CMG refused the client certificate: " + r.reason()
		if _, why, ok := strings.Cut(strings.TrimSpace(body), "\n"); ok {
			s.Detail += " (" + why + ")"
		}
		s.Fix = "upload the client certificate's root CA and its intermediate CAs to the CMG (CMG properties > Trusted root certificates)"
		s.Proof = c.proofCert("pki-client")
	case strings.Contains(body, errInvalidToken):
		s.Fix = "get a new token; check the clocks and the token's audience, issuer and tenant"
		if id == StepCCMToken {
			s.Component = CompMP
			s.Detail = "CCM_STS refused the Entra token: " + r.reason()
			if strings.Contains(body, "IDX10223") {
				s.Detail += " (lifetime validation failed: the token is expired)"
				s.Fix = "the Entra token expired before it reached CCM_STS: check the client's and the MP's clocks (time sync), then retry; the client gets a new token"
			}
		}
	}
	return false
}

func (c *client) message(ctx context.Context, target string) result {
	var payload string
	switch target {
	case "MP_LocationManager":
		payload = `<SiteInformationRequest SchemaVersion="1.00"><SiteCode Name="MEM"/></SiteInformationRequest>`
	case "MP_ClientRegistration":
		var err error
		payload, err = registrationRequest(c.e.m.signing.Leaf, c.e.m.signingKey, clientGUID, c.fqdn(), c.e.clk.Now().UTC().Format("2006-01-02T15:04:05Z"))
		if err != nil {
			return result{err: err}
		}
	default:
		payload = `<RequestAssignments SchemaVersion="1.00" RequestType="Always"/>`
	}
	c.e.mu.Lock()
	c.e.msgSeq++
	id := fmt.Sprintf("{BD03DEED-D09A-4E63-ADAD-%012X}", c.e.msgSeq)
	c.e.mu.Unlock()
	body, ct, err := encodeMessage(msg{ID: id, ClientID: clientGUID, Target: target}, payload)
	if err != nil {
		return result{err: err}
	}
	if c.mode == "pki" {
		return c.cmg(ctx, ccmPost, "/CCM_Proxy_MutualAuth/"+endpointID+"/ccm_system/request", body, map[string]string{"Content-Type": ct})
	}
	c.log(logMessaging, "ccmhttp: Host=%s, Path=/CCM_Proxy_ServerAuth/%s/ccm_system_tokenauth/request, Port=443, Protocol=https, CcmTokenAuth=1, Flags=0x4200, Options=0x1e0", strings.ToUpper(c.e.w.cmgHost), endpointID)
	c.log(logMessaging, "Appending CCM Token to the header.")
	return c.cmg(ctx, ccmPost, "/CCM_Proxy_ServerAuth/"+endpointID+"/ccm_system_tokenauth/request", body, map[string]string{"Content-Type": ct, "Authorization": "Bearer " + c.ccm})
}

// fqdn is the client's name: its PKI certificate's, else a lab default.
func (c *client) fqdn() string {
	if c.pki != nil && len(c.pki.Leaf.DNSNames) > 0 {
		return c.pki.Leaf.DNSNames[0]
	}
	return "client01.contoso.com"
}

// location is step 4: site information.
func (c *client) location(ctx context.Context) bool {
	mark := c.e.logs.mark()
	c.log(logLocation, "Sending location request to '%s/CCM_Proxy_MutualAuth/%s'", c.e.w.cmgHost, endpointID)
	r := c.message(ctx, "MP_LocationManager")
	if r.err == nil && r.status == 200 {
		var rep struct {
			Sec struct {
				CRL int `xml:"CRLChecking,attr"`
			} `xml:"SecuritySettings"`
		}
		if err := xml.Unmarshal(r.body, &rep); err == nil {
			b := rep.Sec.CRL == 1
			c.siteCRL = &b
		}
		c.log(logLocation, "Received message '%s'", r.body)
	}
	return c.check(StepLocation, mark, r, "site information received through the CMG")
}

// register is step 5-8: registration (approval 3 for Entra clients).
func (c *client) register(ctx context.Context) bool {
	mark := c.e.logs.mark()
	c.log(logClientID, "[RegTask] - Client is not registered. Sending registration request for %s ...", clientGUID)
	if c.mode == "pki" {
		c.log(logClientID, "Registering client using PKI certificate.")
	} else {
		c.log(logClientID, "Registering client using AAD auth.")
	}
	r := c.message(ctx, "MP_ClientRegistration")
	detail := ""
	if r.err == nil && r.status == 200 {
		var rep struct {
			SMSID    string `xml:"SMSID,attr"`
			Approval int    `xml:"ApprovalStatus,attr"`
		}
		xml.Unmarshal(r.body, &rep)
		c.log(logClientID, "[RegTask] - Client is registered. Server assigned ClientID is %s. Approval status %d", rep.SMSID, rep.Approval)
		detail = fmt.Sprintf("registered as %s, approval status %d", rep.SMSID, rep.Approval)
	}
	return c.check(StepRegister, mark, r, detail)
}

// renew is step 9: 8 hours later the CCM token is renewed.
func (c *client) renew(ctx context.Context) bool {
	mark := c.e.logs.mark()
	if c.mode == "pki" {
		c.step(StepRenewal, CompClient, mark, Skip, "PKI client: no CCM token to renew")
		return true
	}
	old := c.ccmExp
	c.e.clk.Add(CCMTokenLifetime + 10*time.Minute) // past the 5-minute clock skew validators allow
	c.log(logMessaging, "Sending remote sync message to host '%s/CCM_Proxy_MutualAuth/%s' endpoint 'MP_PolicyManager'.", strings.ToUpper(c.e.w.cmgHost), endpointID)
	var note string
	if c.e.w.sendExpiredFirst {
		r := c.message(ctx, "MP_PolicyManager")
		if r.status != http.StatusUnauthorized {
			s := c.step(StepRenewal, CompCMG, mark, Fail, "the CMG accepted an expired CCM token: "+r.reason())
			s.Fix = "the CMG must refuse expired tokens"
			return false
		}
		c.log(logMessaging, "Received %s from the CMG: the CCM token expired at %s", r.reason(), old.Format("01/02/2006 15:04:05"))
		note = "the CMG refused the expired token (" + r.reason() + "), then "
	} else {
		c.log(logMessaging, "CCM Token for 'S-1-5-18' (%s) is already expired or close to expire", old.Format("01/02/2006 15:04:05"))
	}
	// The Entra token (1 h) has expired too: a new one first.
	c.log(logADAL, "Getting AAD (%s) token with: ClientId = %s, ResourceUrl = %s, AccountId = https://login.microsoftonline.com/common/oauth2/token", c.mode, ClientAppID, ResourceURI)
	tok, err := c.entraToken(ctx, c.mode)
	if err == nil {
		c.log(logADAL, "Retrieved AAD token for AAD %s", c.mode)
	}
	if err != nil {
		s := c.step(StepRenewal, CompEntra, mark, Fail, "no new Entra token: "+err.Error())
		s.Fix = "see the auth-choice step"
		return false
	}
	c.entra = tok
	if r := c.getCCMToken(ctx); r.err != nil || r.status != 200 {
		return c.check(StepRenewal, mark, r, "")
	}
	r := c.message(ctx, "MP_PolicyManager")
	return c.check(StepRenewal, mark, r, fmt.Sprintf("%sthe CCM token that expired at %s was renewed until %s; policy request accepted",
		note, old.UTC().Format(time.RFC3339), c.ccmExp.UTC().Format(time.RFC3339)))
}

// securitySettings: location services refresh the site's security
// settings; the site's CRL setting replaces /NoCRLCheck, and the next
// connection to the CMG uses it.
func (c *client) securitySettings(ctx context.Context) bool {
	mark := c.e.logs.mark()
	site := c.siteCRL != nil && *c.siteCRL
	was := c.crlCheck
	c.crlCheck = site
	c.log(logLocation, "Refreshing security settings over AD/MP: CRL checking is %v (was %v from the command line)", onOff(site), onOff(was))
	r := c.message(ctx, "MP_PolicyManager")
	if r.err != nil {
		c.tlsFail(StepSecSettings, mark, r)
		if s := c.f.Step(StepSecSettings); s != nil && !was && site {
			s.Detail = "after the security settings refresh the site's CRL checking replaced /NoCRLCheck, and the CMG certificate now fails: " + s.Detail
			s.Fix = "publish the CRL where clients reach it (the CDP URL over HTTP from the internet), or clear \"Clients check the CRL for site systems\" on the site's Communication Security tab; /NoCRLCheck only carries the bootstrap"
		}
		return false
	}
	return c.check(StepSecSettings, mark, r, fmt.Sprintf("site CRL checking %s (was %s); the CMG connection still passes", onOff(site), onOff(was)))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

var _ = lint.WinError{}
