package diagnose

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The CCM token request is one step seen four times: the client's request
// (ccmsetup.log, ClientIDManagerStartup.log, CcmMessaging.log), the CMG's
// request line (CMGService.log), the connection point's URL rewrite and
// message (SMS_CLOUD_PROXYCONNECTOR.log) and the MP's STS (CCM_STS.log).
// hopTrace records the earliest sighting at each hop, correlated by the
// request URI (CCM_STS), so the step's detail says how far the request got.

type hop struct {
	name string
	seen bool
	at   time.Time
	ref  string // the line's URI or message ID
	ev   Evidence
}

type hopTrace struct{ hops [4]hop }

var (
	reClientSTS = regexp.MustCompile(`Getting CCM Token from (https://\S+/CCM_STS)`)
	reCMGSTS    = regexp.MustCompile(`(?i)RequestUri: (/CCM_PROXY_\w+/\d+/CCM_STS)`)
	reCPSTS     = regexp.MustCompile(`(?i)MessageID: (\S+) RequestURI: (https://\S+/CCM_STS)`)
	reMPSTS     = regexp.MustCompile(`Incoming request URL: (https://\S+/CCM_STS)`)
)

func newHopTrace() *hopTrace {
	return &hopTrace{hops: [4]hop{{name: "client"}, {name: "CMG"}, {name: "connection point"}, {name: "MP"}}}
}

// see looks at one line (the caller has checked it holds "CCM_STS").
func (h *hopTrace) see(l Line) {
	set := func(i int, ref string) {
		if x := h.hops[i]; !x.seen || (!l.Time.IsZero() && l.Time.Before(x.at)) {
			h.hops[i] = hop{name: h.hops[i].name, seen: true, at: l.Time, ref: ref, ev: evidence(l)}
		}
	}
	t := l.Text
	switch {
	case strings.Contains(t, "Getting CCM Token from https://"):
		if m := reClientSTS.FindStringSubmatch(t); m != nil {
			set(0, m[1])
		}
	case strings.Contains(t, "RequestUri: "):
		if m := reCMGSTS.FindStringSubmatch(t); m != nil {
			set(1, m[1])
		}
	case strings.Contains(t, "MessageID: "):
		if m := reCPSTS.FindStringSubmatch(t); m != nil {
			set(2, "MessageID "+m[1]+" to "+m[2])
		}
	case strings.Contains(t, "Incoming request URL: "):
		if m := reMPSTS.FindStringSubmatch(t); m != nil {
			set(3, m[1])
		}
	}
}

// summary says which hops saw the CCM token request and where it stopped;
// "" when no hop saw it.
func (h *hopTrace) summary() string {
	var seen, missing []string
	last := -1
	for i, x := range h.hops {
		if x.seen {
			seen = append(seen, fmt.Sprintf("%s (%s)", x.name, x.ref))
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	for i := 0; i < last; i++ {
		if !h.hops[i].seen {
			missing = append(missing, h.hops[i].name)
		}
	}
	s := "the CCM_STS request was seen at " + strings.Join(seen, ", ")
	if last < 3 {
		s += fmt.Sprintf("; it is not seen after the %s", h.hops[last].name)
	}
	if len(missing) > 0 {
		s += "; no log of the " + strings.Join(missing, ", ") + " was given or it lacks the line"
	}
	return s
}
