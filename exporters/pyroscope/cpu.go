package pyroscope

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	pyrohttp "github.com/grafana/pyroscope-go/http/pprof"

	"github.com/gdiag/gdiag/probes"
)

// ErrCPUProfile is wrapped by the error of CPUProfile's function when the
// CPU profiler could not be started (another on-demand capture is running,
// or a profiler outside pyroscope-go holds it).
var ErrCPUProfile = errors.New("pyroscope: cannot start a cpu profile")

// CPUProfile returns a probes.ProfileFunc that takes an on-demand CPU profile
// without stopping continuous profiling: register it as
// probes.Options.Profiles["cpu"] to replace the standard CPU profile, which
// answers 409 while Start's profiler holds the CPU profiler. The function
// pauses the background profile, profiles for d (rounded up to whole
// seconds, at least one), writes the profile in pprof format to w and
// resumes; the background profile receives the same samples. It returns
// ctx.Err() when ctx ends first, and an error wrapping ErrCPUProfile when the
// profiler is busy. It also works when no continuous profiler runs.
func CPUProfile() probes.ProfileFunc {
	return func(ctx context.Context, w io.Writer, d time.Duration) error {
		if d <= 0 {
			return fmt.Errorf("pyroscope: cpu profile duration %v is not positive", d)
		}
		// pyroscope-go's handler is the only public door to its cooperative
		// collector; it counts in whole seconds, so our own deadline, which
		// comes first, sets the real length.
		secs := int64((d + time.Second - 1) / time.Second)
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		req, err := http.NewRequestWithContext(cctx, http.MethodGet,
			"/profile?"+url.Values{"seconds": {strconv.FormatInt(secs, 10)}}.Encode(), nil)
		if err != nil {
			return fmt.Errorf("pyroscope: cpu profile request: %w", err)
		}
		rec := &recorder{w: w}
		pyrohttp.Profile(rec, req)
		if rec.status != 0 && rec.status != http.StatusOK {
			return fmt.Errorf("%w: %s", ErrCPUProfile, strings.TrimSpace(rec.errText.String()))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return rec.werr
	}
}

// recorder passes a successful body to w and keeps an error body aside.
type recorder struct {
	w       io.Writer
	h       http.Header
	status  int
	errText strings.Builder
	werr    error
}

func (r *recorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.status != http.StatusOK {
		return r.errText.Write(p)
	}
	n, err := r.w.Write(p)
	if err != nil && r.werr == nil {
		r.werr = err
	}
	return n, err
}
