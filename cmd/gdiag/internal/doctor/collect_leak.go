package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/gdump"
)

// LeakProfile is what the runtime's goroutineleak profile proved: the
// goroutines blocked forever on channels or locks that nothing reachable
// can wake, grouped by stack.
type LeakProfile struct {
	Time   time.Time
	Leaked int
	Groups []gdump.Group // only the leaked goroutines' groups, largest first
}

// leakProfileName is the runtime's profile of proven leaks (Go 1.26 with
// GOEXPERIMENT=goroutineleakprofile; net/http/pprof and the agent serve it
// under this name when the runtime has it).
const leakProfileName = "goroutineleak"

// leaks reads the goroutineleak profile (debug=2: every goroutine, the
// leaked ones marked "(leaked)" in their state) at the end of the window.
// Writing it runs a garbage collection that looks for such goroutines.
func (c *collector) leaks(ctx context.Context) {
	if c.obs.Agent && !slices.Contains(c.info.Profiles, leakProfileName) {
		c.setLeakMissing("the target's runtime has no goroutineleak profile (build it with Go 1.26+ and GOEXPERIMENT=goroutineleakprofile)")
		return
	}
	body, err := c.t.Profile(ctx, leakProfileName, 0, 2)
	if err != nil {
		var ce *cli.Error
		if errors.As(err, &ce) && ce.Code == cli.ExitRemote && strings.Contains(err.Error(), "404") {
			c.setLeakMissing("the target serves no goroutineleak profile (build it with Go 1.26+ and GOEXPERIMENT=goroutineleakprofile)")
			return
		}
		c.setLeakMissing("goroutineleak profile: " + err.Error())
		return
	}
	gs, err := gdump.Parse(body)
	body.Close()
	if err != nil {
		c.setLeakMissing("goroutineleak profile: " + err.Error())
		return
	}
	c.mu.Lock()
	c.obs.Leaks = leakProfile(time.Now(), gs)
	c.mu.Unlock()
}

func (c *collector) setLeakMissing(why string) {
	c.mu.Lock()
	c.obs.LeakMissing = why
	c.mu.Unlock()
}

// leakProfile keeps the goroutines a goroutineleak dump marks leaked.
func leakProfile(at time.Time, gs []gdump.Goroutine) *LeakProfile {
	var leaked []gdump.Goroutine
	for _, g := range gs {
		if strings.Contains(g.State, "(leaked)") {
			leaked = append(leaked, g)
		}
	}
	return &LeakProfile{Time: at, Leaked: len(leaked), Groups: gdump.GroupGoroutines(leaked)}
}
