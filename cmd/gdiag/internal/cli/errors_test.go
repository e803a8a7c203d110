package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gdiag/gdiag/apiv1"
)

// TestExitCode checks that each failure of the agent's client has its
// own exit code: unreachable, no agent, refused token, and the rest.
func TestExitCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("pid 1234: %w", err) }
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{Findings, ExitFindings},
		{Usagef("bad"), ExitUsage},
		{wrap(apiv1.ErrNoProcess), ExitTarget},
		{wrap(apiv1.ErrNoAgent), ExitTarget},
		{wrap(context.DeadlineExceeded), ExitTimeout},
		{wrap(apiv1.ErrUnreachable), ExitUnreachable},
		{wrap(apiv1.ErrUnauthorized), ExitRefused},
		{wrap(&apiv1.StatusError{StatusCode: 401}), ExitRefused},
		{wrap(apiv1.ErrUntrusted), ExitRefused},
		{wrap(apiv1.ErrNeedToken), ExitUsage},
		{wrap(apiv1.ErrBadTarget), ExitUsage},
		{wrap(&apiv1.StatusError{StatusCode: 500}), ExitRemote},
		{errors.New("anything else"), ExitRemote},
	} {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d; want %d", c.err, got, c.want)
		}
	}
}
