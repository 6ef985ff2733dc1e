package lint

import (
	"encoding/json"
	"fmt"
)

// Status is the outcome of one rule on one subject, ordered by severity.
type Status int

// The statuses, least severe first.
const (
	NA     Status = iota // not applicable to this subject
	NE                   // requirement not yet in effect
	Pass                 // requirement met
	Notice               // informational
	Warn                 // likely problem
	Error                // requirement violated
	Fatal                // the rule could not run
)

var statusNames = [...]string{"NA", "NE", "pass", "notice", "warn", "error", "fatal"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// ParseStatus parses the String form of a status.
func ParseStatus(v string) (Status, error) {
	for i, n := range statusNames {
		if n == v {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("lint: unknown status %q (want one of %v)", v, statusNames)
}

// MarshalJSON writes the status as its name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a status name.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p, err := ParseStatus(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}
