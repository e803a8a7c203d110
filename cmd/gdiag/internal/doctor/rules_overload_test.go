package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// shedding is an observation of a pool that sheds shed of every 100 tasks
// offered a second, byKey of them for their key's share, with an adaptive
// limit of limit of 16 workers and running workers busy.
func shedding(shed, byKey uint64, limit, running int) *Observation {
	o := healthy()
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
		n := uint64(i)
		p.Submitted, p.Completed = (100-shed)*n, (100-shed)*n
		p.Refused = pool.Refusals{ShedWait: (shed - byKey) * n, ShedKey: byKey * n}
		p.Rejected = shed * n
		p.ShedTarget, p.Shedding = 5*time.Millisecond, shed > 0
		p.Adaptive, p.Limit, p.Running = true, limit, running
	})
	return o
}

func TestAnalyzeShedding(t *testing.T) {
	cases := []struct {
		name   string
		o      *Observation
		reason string // part of the summary; "" for no finding
	}{
		{"saturated behind an adaptive limit", shedding(70, 0, 4, 4), "adaptive limit is 4 of 16 workers"},
		{"too small a pool", shedding(70, 0, 16, 16), "Every one of its 16 workers is busy"},
		{"one key", shedding(70, 60, 16, 16), "one key taking more than its share"},
		{"bursts", shedding(70, 0, 16, 3), "bursts"},
		{"a share that is not most", shedding(30, 0, 4, 4), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, checked, _ := Analyze(c.o, "1234")
			if !strings.Contains(strings.Join(checked, "\n"), "pool overload controls") {
				t.Errorf("checked = %q; want the overload controls among them", checked)
			}
			var shed, overload *Finding
			for i := range fs {
				switch fs[i].Cause {
				case schedstats.CausePoolShedding:
					shed = &fs[i]
				case schedstats.CausePoolOverload:
					overload = &fs[i]
				}
			}
			if c.reason == "" {
				if shed != nil {
					t.Errorf("finding %+v; want none under half shed", shed)
				}
				return
			}
			if shed == nil || shed.Pool != "http" || !strings.Contains(shed.Summary, c.reason) || !strings.Contains(shed.Title, "70%") {
				t.Fatalf("findings %+v; want pool-shedding of http saying %q", fs, c.reason)
			}
			if overload != nil {
				t.Errorf("a pool-overload finding %+v next to pool-shedding for the same pool; want it replaced", overload)
			}
		})
	}
}

func TestAnalyzeBreaker(t *testing.T) {
	o := healthy()
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
		p.BreakerOpens = uint64(i / 3) // opens every 3 s
		p.Refused.BreakerOpen = uint64(20 * i)
		p.Rejected = uint64(20 * i)
		p.Breakers = []pool.BreakerStats{{State: pool.BreakerClosed, Requests: 40},
			{Key: "payments", State: pool.BreakerOpen, Opened: uint64(i / 3), Failures: 12, Requests: 20}}
	})
	fs, _, _ := Analyze(o, "1234")
	var f *Finding
	for i := range fs {
		if fs[i].Cause == schedstats.CausePoolBreaker {
			f = &fs[i]
		}
	}
	if f == nil || !strings.Contains(f.Title, `key "payments" keeps opening (4 times`) || !strings.Contains(f.Summary, "is open now") {
		t.Fatalf("findings %+v; want pool-breaker naming key payments", fs)
	}
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
		p.BreakerOpens = 1 // opened once, before the window
		p.Breakers = []pool.BreakerStats{{State: pool.BreakerClosed, Opened: 1}}
	})
	for _, f := range func() []Finding { fs, _, _ := Analyze(o, "1234"); return fs }() {
		if f.Cause == schedstats.CausePoolBreaker {
			t.Errorf("finding %+v for a breaker that did not open in the window", f)
		}
	}
}
