package handshake

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"go.step.sm/crypto/jose"
)

const (
	entraHost = "login.microsoftonline.com"
	// ResourceURI is the server app's App ID URI (the documented default).
	ResourceURI = "https://ConfigMgrService"
	// ClientAppID is the simulated client app ID.
	ClientAppID = "0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b"
	serverAppID = "6e1c4f4a-2b7d-4c55-9d0e-3f1a2b9c8d7e"
	// TenantID is the simulated tenant (the device's and, unless a scenario
	// says otherwise, the onboarded one).
	TenantID    = "9aaf466a-3f40-4468-b3cd-f0010f21f05a"
	userOID     = "e8838041-db7a-42d5-b9ae-78813910e4cc"
	hierarchyID = "8ed3174b-e814-41b5-b51c-fb368f0d4003"
	entraKID    = "sim-entra-1"
	siteKID     = "sim-site-1"
	// EntraTokenLifetime and CCMTokenLifetime are the lifetimes of the
	// simulated tokens (Entra access tokens last about an hour; the CCM
	// token 8 hours).
	EntraTokenLifetime = time.Hour
	CCMTokenLifetime   = 8 * time.Hour
	ccmAudience        = "urn:sccm:service"
)

// entraClaims are the v1 access token claims the MP reads.
type entraClaims struct {
	jose.Claims
	TenantID string `json:"tid"`
	OID      string `json:"oid"`
	AppID    string `json:"appid"`
	DeviceID string `json:"deviceid,omitempty"`
	Ver      string `json:"ver"`
	IDType   string `json:"idtyp"`
}

// ccmClaims are the modelled CCM token claims.
type ccmClaims struct {
	jose.Claims
	TokenType string `json:"token_type"` // "Device" or "UDA" (user-device affinity)
	TenantID  string `json:"tid"`
	DeviceID  string `json:"deviceid,omitempty"`
	UserID    string `json:"userid,omitempty"`
}

func sign(key *ecdsa.PrivateKey, kid string, claims any) (string, error) {
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return "", fmt.Errorf("handshake: token signer: %w", err)
	}
	return jose.Signed(sg).Claims(claims).CompactSerialize()
}

func jwks(key *ecdsa.PrivateKey, kid string) jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}}
}

var errLifetime = errors.New("lifetime validation failed")

// parseToken checks tok's signature against set and decodes its claims into
// dst (no claim checks).
func parseToken(tok string, set jose.JSONWebKeySet, dst any) error {
	t, err := jose.ParseSigned(tok)
	if err != nil {
		return fmt.Errorf("malformed token: %w", err)
	}
	if len(t.Headers) != 1 {
		return errors.New("token has no single signature")
	}
	keys := set.Key(t.Headers[0].KeyID)
	if len(keys) == 0 {
		return fmt.Errorf("no key %q in the token service's JWKS", t.Headers[0].KeyID)
	}
	if err := t.Claims(keys[0].Key, dst); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return nil
}

// lifetime checks nbf/exp at now with Microsoft.IdentityModel's default 5
// minute clock skew.
func lifetime(c jose.Claims, now time.Time) error {
	const skew = 5 * time.Minute
	if c.Expiry == nil {
		return fmt.Errorf("%w: no exp", errLifetime)
	}
	if now.After(c.Expiry.Time().Add(skew)) {
		return fmt.Errorf("%w: IDX10223: Lifetime validation failed. The token is expired. ValidTo: '%s', Current time: '%s'",
			errLifetime, c.Expiry.Time().UTC().Format("01/02/2006 15:04:05"), now.UTC().Format("01/02/2006 15:04:05"))
	}
	if c.NotBefore != nil && now.Add(skew).Before(c.NotBefore.Time()) {
		return fmt.Errorf("%w: IDX10222: Lifetime validation failed. The token is not yet valid", errLifetime)
	}
	return nil
}
