package crl

import (
	"context"
	"fmt"
	"time"
)

// RunWoken is Run that also runs at once whenever wake receives (the
// PostgreSQL store's change notifications); poll stays the fallback for
// changes that were not announced. A nil wake is Run.
func (u *Updater) RunWoken(ctx context.Context, poll time.Duration, wake <-chan struct{}) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		if _, err := u.RunOnce(ctx); err != nil && ctx.Err() == nil && u.Log != nil {
			fmt.Fprintf(u.Log, "Warning: revocation update failed (retrying in %s): %v\n", poll, err)
		}
	}
}
