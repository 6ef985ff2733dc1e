package handshake

import (
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.step.sm/crypto/jose"

	"github.com/cmgpki/cmgpki/verify"
)

// Log files of the components, as named in cmg-flow.md.
const (
	logCCMSetup  = "ccmsetup.log"
	logClientID  = "ClientIDManagerStartup.log"
	logLocation  = "LocationServices.log"
	logMessaging = "CcmMessaging.log"
	logADAL      = "ADALOperationProvider.log"
	logCMG       = "CMGService.log"
	logCP        = "SMS_CLOUD_PROXYCONNECTOR.log"
	logSTS       = "CCM_STS.log"
	logReg       = "MP_RegistrationManager.log"
	logEntra     = "EntraTokenService.log" // the simulator's own: Entra keeps no log an admin can read
)

// logBook collects the log lines of every component in order, stamped
// with the simulated time.
type logBook struct {
	mu    sync.Mutex
	clk   interface{ Now() time.Time }
	lines []LogLine
}

func (l *logBook) add(file, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, LogLine{File: file, Time: l.clk.Now(), Text: fmt.Sprintf(format, args...)})
}

func (l *logBook) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// since returns the lines from mark i as evidence ("file: text").
func (l *logBook) since(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, x := range l.lines[i:] {
		out = append(out, x.File+": "+x.Text)
	}
	return out
}

func (l *logBook) all() []LogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogLine(nil), l.lines...)
}

// Errors the site components answer with.
const (
	errClientCertRequired = "CMGConnector_Clientcertificaterequired"
	errInvalidToken       = "CMGService_Invalid_Token"
)

func httpError(w http.ResponseWriter, code int, reason, detail string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "%s\n%s\n", reason, detail)
}

// ---- Entra token service ----

func (e *env) entraHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/discovery/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwks(e.m.entraKey, entraKID))
	})
	mux.HandleFunc("POST /{tenant}/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		tid := r.PathValue("tenant")
		now := e.clk.Now()
		claims := entraClaims{Claims: jose.Claims{Issuer: "https://sts.windows.net/" + tid + "/", Audience: jose.Audience{r.FormValue("resource")},
			IssuedAt: jose.NewNumericDate(now), NotBefore: jose.NewNumericDate(now.Add(-5 * 60e9)), Expiry: jose.NewNumericDate(now.Add(EntraTokenLifetime))},
			TenantID: tid, AppID: r.FormValue("client_id"), Ver: "1.0"}
		switch r.FormValue("grant_type") {
		case "device":
			if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
				e.tokenError(w, "AADSTS50187: no device certificate presented (device is not Entra-joined)")
				return
			}
			dev := r.TLS.PeerCertificates[0]
			if e.m.WPJRoot == nil {
				e.tokenError(w, "AADSTS50187: no MS-Organization-Access CA")
				return
			}
			// Entra is not a Windows relying party: the device certificate
			// (no AKI, CDP or key usage, like a real one) is checked by
			// path and signature to MS-Organization-Access.
			pool := x509.NewCertPool()
			pool.AddCert(e.m.WPJRoot)
			if _, err := dev.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				e.tokenError(w, "AADSTS50187: device certificate does not chain to MS-Organization-Access: "+err.Error())
				return
			}
			if !e.w.deviceTokens {
				e.tokenError(w, "AADSTS50194: the server app is not enabled for device tokens")
				return
			}
			claims.DeviceID, claims.OID, claims.IDType = dev.Subject.CommonName, dev.Subject.CommonName, "device"
		case "user":
			if !e.w.userSession {
				e.tokenError(w, "AADSTS50058: no user is signed in")
				return
			}
			claims.OID, claims.IDType = userOID, "user"
			if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
				claims.DeviceID = r.TLS.PeerCertificates[0].Subject.CommonName
			}
		default:
			e.tokenError(w, "AADSTS900144: grant_type must be device or user")
			return
		}
		tok, err := sign(e.m.entraKey, entraKID, claims)
		if err != nil {
			httpError(w, 500, "server_error", err.Error())
			return
		}
		e.logs.add(logEntra, "issued %s token for oid %s, aud %s, expires %s", claims.IDType, claims.OID, r.FormValue("resource"), claims.Expiry.Time().UTC().Format("01/02/2006 15:04:05"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "Bearer"})
	})
	return mux
}

func (e *env) tokenError(w http.ResponseWriter, desc string) {
	e.logs.add(logEntra, "refused: %s", desc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
}

// ---- CMG ----

// aadAuthInfo is the (modelled) AADAuthInfo reply.
type aadAuthInfo struct {
	TenantID    string `json:"TenantId"`
	ClientAppID string `json:"ClientAppId"`
	ResourceURI string `json:"ResourceUri"`
}

func (e *env) cmgHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.ToLower(r.URL.Path)
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		rw := &countingWriter{ResponseWriter: w, code: 200}
		defer func() {
			e.logs.add(logCMG, "RequestUri: %s  RequestCount: 1  RequestSize: %d Bytes  ResponseCount: 1  ResponseSize: %d Bytes  Status: %d",
				strings.ToUpper(r.URL.Path), r.ContentLength, rw.n, rw.code)
		}()
		switch {
		case p == "/ccm_proxy_serverauth/aadauthinfo":
			tid := r.URL.Query().Get("TenantID")
			if tid == "" || !strings.EqualFold(tid, e.w.onboardedTenant) {
				rw.WriteHeader(http.StatusNotFound) // nothing for a tenant not onboarded
				return
			}
			rw.Header().Set("Content-Type", "application/json")
			json.NewEncoder(rw).Encode(aadAuthInfo{TenantID: tid, ClientAppID: ClientAppID, ResourceURI: ResourceURI})
		case p == "/ccm_proxy_mutualauth/servicemetadata":
			rw.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(rw, `<ServiceMetadata><CMG Name=%q/><MP Name=%q/></ServiceMetadata>`, e.m.CMGName, e.m.MPName)
		case len(parts) == 3 && parts[2] == "ccm_sts" && (parts[0] == "ccm_proxy_mutualauth" || parts[0] == "ccm_proxy_serverauth"):
			e.cpForward(rw, r, "/CCM_STS", "CCM_STS", "")
		case len(parts) == 4 && parts[0] == "ccm_proxy_serverauth" && parts[2] == "ccm_system_tokenauth" && parts[3] == "request":
			// Token traffic: an invalid CCM token stops here, before the
			// internal roles.
			var c ccmClaims
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			err := parseToken(tok, jwks(e.m.siteKey, siteKID), &c)
			if err == nil {
				err = lifetime(c.Claims, e.clk.Now())
			}
			if err != nil {
				e.logs.add(logCMG, "Token validation failed: %v", err)
				httpError(rw, http.StatusUnauthorized, errInvalidToken, err.Error())
				return
			}
			e.cpForward(rw, r, "/ccm_system_tokenauth/request", "ccm_system_tokenauth", "")
		case len(parts) == 4 && parts[0] == "ccm_proxy_mutualauth" && parts[2] == "ccm_system" && parts[3] == "request":
			// PKI clients: the certificate must chain to what was uploaded
			// to the CMG (roots and intermediates); the CMG builds the
			// chain from those only.
			if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
				e.logs.add(logCMG, "Client certificate is missing for a MutualAuth request")
				httpError(rw, http.StatusForbidden, "CMGService_ClientCertificateRequired", "no client certificate")
				return
			}
			leaf := r.TLS.PeerCertificates[0]
			o := verify.ChainOptions{Roots: e.w.cmgRoots, Intermediates: e.w.cmgIntermediates, At: e.clk.Now(),
				Usages: []verify.OID{verify.EKUClientAuth}, Fetcher: e.fetcher}
			if e.w.cmgClientRevoc {
				o.Revocation = verify.RevocationChainExcludeRoot
			}
			if _, err := verify.ChainContext(r.Context(), leaf, o); err != nil {
				e.logs.add(logCMG, "Client certificate validation failed for '%s': %v", leaf.Subject, err)
				httpError(rw, http.StatusForbidden, "CMGService_ClientCertificateNotTrusted", err.Error())
				return
			}
			e.cpForward(rw, r, "/ccm_system/request", "ccm_system", thumb(leaf))
		default:
			httpError(rw, http.StatusNotFound, "not_found", r.URL.Path)
		}
	})
}

type countingWriter struct {
	http.ResponseWriter
	n    int
	code int
}

func (c *countingWriter) WriteHeader(code int) { c.code = code; c.ResponseWriter.WriteHeader(code) }
func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
}

func thumb(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// ---- CMG connection point (in-process behind the CMG) ----

// selectCPCert picks the connection point's client certificate the way the
// real one filters its store: digital-signature key usage, then a chain to
// an allowed root, then the private key, then the client-auth EKU.
func (e *env) selectCPCert() (*tls.Certificate, string) {
	var why []string
	for _, c := range e.w.cpStore {
		leaf := c.cert.Leaf
		switch {
		case leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0:
			why = append(why, leaf.Subject.String()+": no digital-signature key usage")
		case !chainsTo(leaf, c.cert, e.w.cpRoots, e.clk):
			why = append(why, leaf.Subject.String()+": not under an allowed root")
		case !c.hasKey:
			why = append(why, leaf.Subject.String()+": no private key")
		case !hasEKU(leaf, x509.ExtKeyUsageClientAuth):
			why = append(why, leaf.Subject.String()+": no client authentication EKU")
		default:
			cert := c.cert
			return &cert, ""
		}
	}
	return nil, strings.Join(why, "; ")
}

func chainsTo(leaf *x509.Certificate, tc tls.Certificate, roots []*x509.Certificate, clk interface{ Now() time.Time }) bool {
	var inter []*x509.Certificate
	for _, d := range tc.Certificate[1:] {
		if c, err := x509.ParseCertificate(d); err == nil {
			inter = append(inter, c)
		}
	}
	_, err := verify.Chain(leaf, verify.ChainOptions{Roots: roots, Intermediates: inter, At: clk.Now()})
	return err == nil
}

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, x := range c.ExtKeyUsage {
		if x == u || x == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// cpForward is the connection point: it rewrites the CMG URL to the MP's
// and calls the MP over mutual TLS with its client certificate.
func (e *env) cpForward(w http.ResponseWriter, r *http.Request, mpPath, endpoint, clientThumb string) {
	ext := "https://" + r.Host + r.URL.Path
	internal := "https://" + strings.ToUpper(e.m.MPName) + mpPath
	// The real log line repeats the URL and shows the result with three
	// slashes (cmg-flow.md 3.3); copied as documented.
	e.logs.add(logCP, "Switched to internal URL. Replaced '%s' in   '%s' with '%s' and got '%s'", ext, ext, internal, strings.Replace(internal, "https://", "https:///", 1))
	cert, why := e.selectCPCert()
	if cert == nil {
		e.logs.add(logCP, "Failed to find a valid client certificate for the connection to the management point: %s", why)
		httpError(w, http.StatusBadGateway, "CMGConnector_NoClientCertificate", why)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, "https://"+e.m.MPName+mpPath, bytes.NewReader(body))
	for _, h := range []string{"Authorization", "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if clientThumb != "" {
		req.Header.Set("X-Sim-Client-Certificate", clientThumb) // modelled: the CMG passes the PKI client's identity
	}
	var mpChain *verify.ChainResult // the connection point's verdict on the MP's certificate
	cl := e.net.client(&tls.Config{ServerName: e.m.MPName, InsecureSkipVerify: true, Time: e.clk.Now, ClientSessionCache: e.cpSessions,
		Certificates: []tls.Certificate{*cert},
		VerifyConnection: func(cs tls.ConnectionState) error {
			res, err := verify.Chain(cs.PeerCertificates[0], verify.ChainOptions{Roots: e.w.cpRoots, Intermediates: cs.PeerCertificates[1:],
				At: e.clk.Now(), Name: e.m.MPName, Usages: []verify.OID{verify.EKUServerAuth}})
			mpChain = res
			return err
		}})
	e.mu.Lock()
	e.cpJudged = nil
	e.mu.Unlock()
	resp, err := cl.Do(req)
	if mpChain != nil {
		var cs *tls.ConnectionState
		if err == nil {
			cs = resp.TLS
		}
		h := newHop(CompCP, CompMP, cs)
		h.Server, h.Client = judged(mpChain), presentedTLS(cert)
		e.mu.Lock()
		if e.cpJudged != nil {
			h.Client = judged(e.cpJudged) // as the MP judged it
		}
		e.mu.Unlock()
		e.addHop(h)
	}
	if err != nil {
		e.logs.add(logCP, "Failed to forward to '%s': %v", internal, err)
		httpError(w, http.StatusBadGateway, "CMGConnector_ForwardFailed", err.Error())
		return
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e.mu.Lock()
	e.msgSeq++
	id := fmt.Sprintf("b90c8940-b368-4f4a-b22f-%012x", e.msgSeq)
	e.mu.Unlock()
	e.logs.add(logCP, "MessageID: %s RequestURI: https://%s%s EndpointName: %s ResponseHeader: HTTP/1.1 %s", id, e.m.MPName, mpPath, endpoint, resp.Status)
	for _, h := range []string{"Content-Type"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(rb)
}

// ---- Management point ----

func (e *env) mpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The MP requires the connection point's client certificate,
		// judged with Windows semantics against its machine roots.
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			httpError(w, http.StatusForbidden, errClientCertRequired, "no client certificate")
			return
		}
		// IIS always checks the revocation of client certificates (not a
		// ConfigMgr setting); the MP reaches the CDP from the intranet.
		// Only the lab's revocation URLs are served here: your own
		// connection point certificate's revocation is not simulated (Run
		// notes it).
		o := verify.ChainOptions{Roots: e.w.mpRoots, Intermediates: r.TLS.PeerCertificates[1:], At: e.clk.Now(), Usages: []verify.OID{verify.EKUClientAuth}}
		if e.m.inLab(r.TLS.PeerCertificates[0]) {
			o.Revocation, o.Fetcher = verify.RevocationChainExcludeRoot, e.siteFetcher
		}
		res, err := verify.ChainContext(r.Context(), r.TLS.PeerCertificates[0], o)
		e.mu.Lock()
		e.cpJudged = res
		e.mu.Unlock()
		if err != nil {
			httpError(w, http.StatusForbidden, errClientCertRequired, err.Error())
			return
		}
		switch strings.ToLower(r.URL.Path) {
		case "/ccm_sts":
			e.ccmSTS(w, r)
		case "/ccm_system_tokenauth/request", "/ccm_system/request":
			e.mpMessage(w, r)
		default:
			httpError(w, http.StatusNotFound, "not_found", r.URL.Path)
		}
	})
}

// ccmSTS validates the Entra token and issues a CCM token.
func (e *env) ccmSTS(w http.ResponseWriter, r *http.Request) {
	e.logs.add(logSTS, "ProcessRequest - Start")
	e.logs.add(logSTS, "Incoming request URL: https://%s/CCM_STS", strings.ToUpper(e.m.MPName))
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	set, err := e.fetchJWKS(r)
	var c entraClaims
	if err == nil {
		err = parseToken(tok, set, &c)
	}
	if err == nil {
		err = lifetime(c.Claims, e.clk.Now())
	}
	if err == nil && c.Issuer != "https://sts.windows.net/"+c.TenantID+"/" {
		err = fmt.Errorf("IDX10205: Issuer validation failed. Issuer: '%s'", c.Issuer)
	}
	if err == nil && !c.Audience.Contains(ResourceURI) {
		err = fmt.Errorf("IDX10214: Audience validation failed. Audiences: '%s'", strings.Join(c.Audience, ","))
	}
	if err == nil && !strings.EqualFold(c.TenantID, e.w.onboardedTenant) {
		err = fmt.Errorf("tenant %s is not onboarded in Configuration Manager", c.TenantID)
	}
	if err != nil {
		e.logs.add(logSTS, "Failed to validate AAD token. %v", err)
		httpError(w, http.StatusUnauthorized, errInvalidToken, err.Error())
		return
	}
	typ := "UDA"
	if c.IDType == "device" {
		typ = "Device"
	}
	e.logs.add(logSTS, "Validated AAD token. TokenType: %s TenantId: %s UserId: %s DeviceId: %s OnPrem_UserSid:  OnPrem_DeviceSid:", typ, c.TenantID, c.OID, c.DeviceID)
	now := e.clk.Now()
	cc := ccmClaims{Claims: jose.Claims{Issuer: "urn:sccm:oauth2:" + hierarchyID, Audience: jose.Audience{ccmAudience}, Subject: c.OID,
		IssuedAt: jose.NewNumericDate(now), NotBefore: jose.NewNumericDate(now), Expiry: jose.NewNumericDate(now.Add(CCMTokenLifetime))},
		TokenType: typ, TenantID: c.TenantID, DeviceID: c.DeviceID}
	if typ == "UDA" {
		cc.UserID = c.OID
	}
	ccm, err := sign(e.m.siteKey, siteKID, cc)
	if err != nil {
		httpError(w, 500, "server_error", err.Error())
		return
	}
	e.logs.add(logSTS, "Created SCCM token, token type: %s, hierarchyId: %s, userId: %s, deviceId: %s", typ, hierarchyID, cc.UserID, c.DeviceID)
	e.logs.add(logSTS, "Issued token")
	e.logs.add(logSTS, "Return token to client")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": ccm, "expires": cc.Expiry.Time().UTC().Format("2006-01-02T15:04:05Z")})
}

// fetchJWKS reads the token service's keys over HTTPS, as the site does.
func (e *env) fetchJWKS(r *http.Request) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	roots := x509.NewCertPool()
	roots.AddCert(e.m.publicRoot)
	cl := e.net.client(&tls.Config{RootCAs: roots, ServerName: entraHost, Time: e.clk.Now})
	req, _ := http.NewRequestWithContext(r.Context(), "GET", "https://"+entraHost+"/common/discovery/keys", nil)
	resp, err := cl.Do(req)
	if err != nil {
		return set, fmt.Errorf("JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return set, fmt.Errorf("JWKS: %s", resp.Status)
	}
	return set, json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set)
}

// mpMessage answers location and registration requests.
func (e *env) mpMessage(w http.ResponseWriter, r *http.Request) {
	m, payload, err := decodeMessage(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, "bad_message", err.Error())
		return
	}
	var c ccmClaims
	tokenAuth := r.Header.Get("Authorization") != ""
	if tokenAuth {
		if err := parseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), jwks(e.m.siteKey, siteKID), &c); err != nil {
			httpError(w, http.StatusUnauthorized, errInvalidToken, err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	switch m.Target {
	case "MP_LocationManager":
		crl := 0
		if e.w.siteCRLCheck {
			crl = 1
		}
		fmt.Fprintf(w, `<SiteInfoReply SchemaVersion="1.00"><Site SiteCode="MEM" MP=%q CMG=%q/><SecuritySettings CRLChecking="%d" HTTPS="1"/></SiteInfoReply>`,
			e.m.MPName, e.m.CMGName, crl)
	case "MP_ClientRegistration":
		// Certificate validation always runs during registration, even
		// with Entra authentication: the request's signature.
		sc, err := checkRegistration(payload)
		if err != nil {
			e.logs.add(logReg, "Failed to verify the registration request from Client '%s': %v", m.ClientID, err)
			httpError(w, http.StatusBadRequest, "registration_rejected", err.Error())
			return
		}
		e.logs.add(logReg, "Verified the registration request signature with signing certificate %s", thumb(sc))
		approval := 1
		if tokenAuth {
			approval = 3
			e.logs.add(logReg, "Registering device using AAD auth: DeviceId='%s', TenantId='%s'", c.DeviceID, c.TenantID)
		} else {
			e.logs.add(logReg, "Registering device using PKI client certificate %s", r.Header.Get("X-Sim-Client-Certificate"))
		}
		e.logs.add(logReg, "Processing Registration request from Client '%s'", m.ClientID)
		fmt.Fprintf(w, `<ClientRegistrationReply SMSID=%q ApprovalStatus="%d"/>`, m.ClientID, approval)
	case "MP_PolicyManager":
		fmt.Fprint(w, `<ReplyAssignments/>`)
	default:
		httpError(w, http.StatusBadRequest, "unknown_endpoint", m.Target)
	}
}
