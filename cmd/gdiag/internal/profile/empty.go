package profile

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Empty says why a captured profile has no samples and what to do, when
// gdiag can tell (gdiag profile --json's "empty").
type Empty struct {
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
}

// samplingPeriod is in the text (debug=1) mutex profile's header.
var samplingPeriod = regexp.MustCompile(`(?m)^sampling period=(-?\d+)$`)

// explainEmpty says why profile name, captured from t over d (zero for
// everything since the process started), has no samples. The mutex and
// block profiles record nothing until the program sets their rate, and
// that, not a quiet program, is the usual reason; the mutex profile's
// text form names the rate, and a block profile empty since the process
// started means a rate of zero, for every Go program blocks.
func explainEmpty(ctx context.Context, t *target.Target, name string, d time.Duration) Empty {
	enable := enableHint(t, name)
	switch name {
	case "mutex":
		period, err := mutexPeriod(ctx, t)
		switch {
		case err != nil:
			return Empty{Reason: "no lock contention recorded; gdiag could not read the sampling period (" + err.Error() + "): mutex profiling may be off", Hint: enable}
		case period == 0:
			return Empty{Reason: "mutex profiling is off in the target (sampling period=0): the runtime records lock contention only once runtime.SetMutexProfileFraction is given a rate above 0", Hint: enable}
		}
		return Empty{Reason: fmt.Sprintf("no lock contention was recorded%s (sampling period=%d: one contention in %d is sampled)", during(d), period, period)}
	case "block":
		if d > 0 {
			if _, all, err := fetch(ctx, t, name, 0); err == nil && len(all.Sample) > 0 {
				return Empty{Reason: "no goroutine blocked" + during(d) + "; block profiling is on (the profile since start has samples)"}
			}
		}
		return Empty{Reason: "no blocking recorded since the process started, and every Go program blocks: block profiling is off in the target (runtime.SetBlockProfileRate is 0 unless the program sets it, and net/http/pprof does not show the rate)", Hint: enable}
	case "heap", "allocs":
		if d > 0 {
			return Empty{Reason: "the runtime publishes heap and allocs samples at each GC, and none ran" + during(d) + ": a longer --duration sees more"}
		}
	}
	return Empty{Reason: "nothing ran, allocated or waited in this profile"}
}

// enableHint says how to turn the mutex or block profile on in t.
func enableHint(t *target.Target, name string) string {
	call := "runtime.SetMutexProfileFraction(5)"
	if name == "block" {
		call = "runtime.SetBlockProfileRate(10000)" // one blocking event per 10 µs blocked
	}
	if t.Kind == target.KindAgent {
		return "rerun with --enable-rate: the agent switches the rate on for the capture and restores it after; or call " + call + " in the service"
	}
	return "call " + call + " in the service at start (it costs little), or add the gdiag agent and run gdiag profile " + name + " PID --enable-rate, which switches it on for the capture only"
}

// mutexPeriod reads the mutex profile's sampling period from its text form.
func mutexPeriod(ctx context.Context, t *target.Target) (int, error) {
	body, err := t.Profile(ctx, "mutex", 0, 1)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	head, err := io.ReadAll(io.LimitReader(body, 4<<10)) // the header comes first
	if err != nil {
		return 0, err
	}
	m := samplingPeriod.FindSubmatch(head)
	if m == nil {
		return 0, fmt.Errorf("no sampling period in the mutex profile's text form")
	}
	return strconv.Atoi(string(m[1]))
}

func during(d time.Duration) string {
	if d <= 0 {
		return " since the process started"
	}
	return " during the " + d.String()
}
