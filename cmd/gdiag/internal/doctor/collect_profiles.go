package doctor

import (
	"context"
	"time"

	"github.com/google/pprof/profile"
)

// topN is how many functions a finding lists.
const topN = 5

// fetchProfile fetches and parses a point-in-time profile (proto form).
func (c *collector) fetchProfile(ctx context.Context, name string) (*profile.Profile, error) {
	body, err := c.t.Profile(ctx, name, 0, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return readProfile(body)
}

// contention reads the mutex and block profiles: at the start it keeps
// the totals, at the end it stores the change. The agent serves these
// profiles only as cumulative snapshots, so the delta is computed here
// (for pprof targets too, to treat both alike).
func (c *collector) contention(ctx context.Context, first bool) {
	for _, name := range []string{"mutex", "block"} {
		p, err := c.fetchProfile(ctx, name)
		if err != nil {
			c.failed(ctx, name+" profile", err)
			continue
		}
		tot, err := totalContention(p, name == "block")
		if err != nil {
			c.failed(ctx, name+" profile", err)
			continue
		}
		c.mu.Lock()
		prev := &c.mutex0
		if name == "block" {
			prev = &c.block0
		}
		switch {
		case first:
			*prev = &tot
		case *prev != nil:
			d := contentionDelta(**prev, tot, topN)
			if name == "mutex" {
				c.obs.Mutex = d
			} else {
				c.obs.Block = d
			}
		}
		c.mu.Unlock()
	}
}

// allocs reads the allocs profile at the start and the end and stores the
// bytes allocated in between by allocation site.
func (c *collector) allocs(ctx context.Context) {
	p, err := c.fetchProfile(ctx, "allocs")
	if err != nil {
		c.failed(ctx, "allocs profile", err)
		return
	}
	by, total, err := allocTotals(p)
	if err != nil {
		c.failed(ctx, "allocs profile", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.alloc0 == nil {
		c.alloc0, c.allocT0 = by, total
		return
	}
	bytes := max(total-c.allocT0, 0)
	c.obs.Allocs = &Allocs{Bytes: bytes, Top: topFuncs(subMaps(by, c.alloc0), bytes, "bytes", topN)}
}

// mem reads runtime.MemStats from the text heap profile.
func (c *collector) mem(ctx context.Context) {
	body, err := c.t.Profile(ctx, "heap", 0, 1)
	if err != nil {
		c.failed(ctx, "heap profile", err)
		return
	}
	defer body.Close()
	m, err := parseMemStats(body, time.Now())
	if err != nil {
		c.failed(ctx, "heap profile", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.obs.Mem = append(c.obs.Mem, m)
	slicesSortMem(c.obs.Mem)
}

// cpu takes a CPU profile of length d.
func (c *collector) cpu(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	body, err := c.t.Profile(ctx, "cpu", d, 0)
	if err != nil {
		c.failed(ctx, "CPU profile", err)
		return
	}
	defer body.Close()
	p, err := readProfile(body)
	if err != nil {
		c.failed(ctx, "CPU profile", err)
		return
	}
	s := summarizeCPU(p, d, topN)
	c.mu.Lock()
	c.obs.CPU = s
	c.mu.Unlock()
}

// threadCreate reads the threadcreate profile's total.
func (c *collector) threadCreate(ctx context.Context) (int, error) {
	body, err := c.t.Profile(ctx, "threadcreate", 0, 1)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	return parseThreadCreate(body)
}

func slicesSortMem(ms []MemStats) {
	for i := len(ms) - 1; i > 0 && ms[i].Time.Before(ms[i-1].Time); i-- {
		ms[i], ms[i-1] = ms[i-1], ms[i]
	}
}
