package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Fetcher retrieves a CDP, OCSP (RFC 5019 GET) or AIA URL. It returns the
// body of a 200 response, at most maxBytes long; a longer body is an error
// wrapping ErrTooLarge. The context carries the per-URL timeout.
//
// Chain decides which URLs are fetched (http:// only, as a Windows client
// fetches CDP, OCSP and AIA URLs from the internet); a Fetcher fetches what it
// is given. Tests use HTTPFetcher against servers on 127.0.0.1.
type Fetcher interface {
	Fetch(ctx context.Context, url string, maxBytes int64) ([]byte, error)
}

// ErrTooLarge is wrapped by a Fetcher when a response exceeds its size limit.
var ErrTooLarge = errors.New("response exceeds the size limit")

// CryptoAPIUserAgent is the User-Agent HTTPFetcher sends by default: the
// product token Windows CryptoAPI uses, so that proxy rules that let
// "Microsoft-CryptoAPI/*" through (cmg-failures.md F04) apply to this check
// as they do to a client.
const CryptoAPIUserAgent = "Microsoft-CryptoAPI/10.0"

// maxRedirects bounds the redirects HTTPFetcher follows.
const maxRedirects = 5

// HTTPFetcher fetches over HTTP with an http.Client.
type HTTPFetcher struct {
	// Client is the HTTP client. Nil means a client with the proxy from the
	// environment (loopback is never proxied) that follows at most 5
	// redirects, and only to http:// URLs. Timeouts come from the context.
	Client *http.Client
	// UserAgent is sent with every request; empty means CryptoAPIUserAgent.
	UserAgent string
}

var _ Fetcher = (*HTTPFetcher)(nil)

var defaultHTTPClient = &http.Client{
	Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "http" {
			return fmt.Errorf("redirect to %s: only http:// is followed", req.URL.Redacted())
		}
		return nil
	},
}

// Fetch GETs u and returns the body of a 200 response.
func (f *HTTPFetcher) Fetch(ctx context.Context, u string, maxBytes int64) ([]byte, error) {
	c := f.Client
	if c == nil {
		c = defaultHTTPClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: fetching %s: %w", u, err)
	}
	ua := f.UserAgent
	if ua == "" {
		ua = CryptoAPIUserAgent
	}
	req.Header.Set("User-Agent", ua)
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("verify: fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: fetching %s: HTTP %s", u, resp.Status)
	}
	if maxBytes > 0 && resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("verify: fetching %s: %w: Content-Length %d bytes, limit %d", u, ErrTooLarge, resp.ContentLength, maxBytes)
	}
	r := io.Reader(resp.Body)
	if maxBytes > 0 {
		r = io.LimitReader(resp.Body, maxBytes+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("verify: fetching %s: reading the body: %w", u, err)
	}
	if maxBytes > 0 && int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("verify: fetching %s: %w: more than %d bytes", u, ErrTooLarge, maxBytes)
	}
	return b, nil
}

// fetchable reports whether a client fetches u: only http:// URLs.
func fetchable(u string) (bool, string) {
	low := strings.ToLower(u)
	switch {
	case strings.HasPrefix(low, "http://"):
		return true, ""
	case strings.HasPrefix(low, "ldap://"):
		return false, "ldap:// is not fetched: only a domain-joined client on the intranet reaches AD over LDAP; an internet (CMG) client cannot"
	case strings.HasPrefix(low, "https://"):
		return false, "https:// is not fetched: Windows retrieves revocation and AIA data over plain http:// (an https fetch would need revocation checking itself)"
	default:
		return false, "not an http:// URL"
	}
}
