package fgprof

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/felixge/fgprof"

	"github.com/gdiag/gdiag/probes"
)

// Profile returns a probes.ProfileFunc that writes a wall-clock profile of
// duration d, in pprof format, to w. When ctx ends first it stops early,
// writes the profile of the time elapsed so far and returns ctx.Err(). A
// duration that is not positive is an error.
func Profile() probes.ProfileFunc {
	return func(ctx context.Context, w io.Writer, d time.Duration) error {
		if d <= 0 {
			return fmt.Errorf("fgprof: duration %v is not positive", d)
		}
		stop := fgprof.Start(w, fgprof.FormatPprof)
		t := time.NewTimer(d)
		defer t.Stop()
		var ctxErr error
		select {
		case <-t.C:
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
		if err := stop(); err != nil {
			return fmt.Errorf("fgprof: write profile: %w", err)
		}
		return ctxErr
	}
}
