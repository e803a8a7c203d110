package main_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// poolsReport mirrors gdiag pools --json; decoding is strict, so a change
// of the documented shape fails here.
type poolsReport struct {
	Target          string  `json:"target"`
	IntervalSeconds float64 `json:"intervalSeconds"`
	Pools           []struct {
		Name          string `json:"name"`
		Running       int    `json:"running"`
		Idle          int    `json:"idle"`
		Workers       int    `json:"workers"`
		MinWorkers    int    `json:"minWorkers"`
		MaxWorkers    int    `json:"maxWorkers"`
		Queued        int    `json:"queued"`
		Parked        int    `json:"parked"`
		QueueCapacity int    `json:"queueCapacity"`
		KeyLimit      int    `json:"keyLimit"`
		Stopped       bool   `json:"stopped"`
		KeyLimited    bool   `json:"keyLimited"`
		Keys          []struct {
			Key     string `json:"key"`
			Running int    `json:"running"`
			Parked  int    `json:"parked"`
		} `json:"keys"`
		Submitted  uint64 `json:"submitted"`
		Completed  uint64 `json:"completed"`
		Failed     uint64 `json:"failed"`
		Panicked   uint64 `json:"panicked"`
		Canceled   uint64 `json:"canceled"`
		Rejected   uint64 `json:"rejected"`
		HookPanics uint64 `json:"hookPanics"`
		Rates      *struct {
			SubmittedPerSec float64 `json:"submittedPerSec"`
			CompletedPerSec float64 `json:"completedPerSec"`
			RejectedPerSec  float64 `json:"rejectedPerSec"`
		} `json:"rates"`
		QueueWait poolPercentiles `json:"queueWait"`
		RunTime   poolPercentiles `json:"runTime"`
		Overload  *poolOverload   `json:"overload"`
	} `json:"pools"`
}

// poolOverload mirrors a pool's "overload" object.
type poolOverload struct {
	Limit    int  `json:"limit"`
	Adaptive bool `json:"adaptive"`
	Rate     *struct {
		PerSecond float64 `json:"perSecond"`
		Burst     int     `json:"burst"`
	} `json:"rate"`
	KeyRate *struct {
		PerSecond float64 `json:"perSecond"`
		Burst     int     `json:"burst"`
	} `json:"keyRate"`
	Shedding          bool              `json:"shedding"`
	ShedTargetSeconds float64           `json:"shedTargetSeconds"`
	Refused           map[string]uint64 `json:"refused"`
	ShedPerSec        *float64          `json:"shedPerSec"`
	BreakerOpens      uint64            `json:"breakerOpens"`
	Breakers          []struct {
		Key      string `json:"key"`
		State    string `json:"state"`
		Opened   uint64 `json:"opened"`
		Requests uint64 `json:"requests"`
		Failures uint64 `json:"failures"`
	} `json:"breakers"`
}

type poolPercentiles struct {
	Count   uint64  `json:"count"`
	P50     float64 `json:"p50Seconds"`
	P99     float64 `json:"p99Seconds"`
	P50Over bool    `json:"p50Over"`
	P99Over bool    `json:"p99Over"`
}

// TestPoolsText checks the table against the demo's two pools.
func TestPoolsText(t *testing.T) {
	d := sharedDemo(t)
	r := gdiag(t, d.Dir, "pools", strconv.Itoa(d.PID), "--interval", "300ms")
	if r.Code != 0 {
		t.Fatalf("gdiag pools: %s", r)
	}
	lines := strings.Split(r.Stdout, "\n")
	if !strings.HasPrefix(lines[0], "POOL") || !strings.Contains(lines[0], "TASKS/S") || !strings.Contains(lines[0], "WAIT p50/p99") {
		t.Errorf("gdiag pools header = %q; want POOL … TASKS/S … WAIT p50/p99\n%s", lines[0], r)
	}
	for _, name := range []string{"http", "batch"} {
		found := false
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) == 13 && f[0] == name {
				found = true
			}
		}
		if !found {
			t.Errorf("gdiag pools has no 13-column row for pool %q\n%s", name, r)
		}
	}
	// The window is the time between the two readings: --interval, or
	// more on a busy machine.
	m := regexp.MustCompile(`\nrates over (\d+\.\d)s; `).FindStringSubmatch(r.Stdout)
	if m == nil {
		t.Errorf("gdiag pools does not say the rates' window\n%s", r)
	} else if w, _ := strconv.ParseFloat(m[1], 64); w < 0.3 {
		t.Errorf("gdiag pools --interval 300ms: rates over %ss; want at least 0.3s\n%s", m[1], r)
	}
	// The batch pool's overload controls, in their own table.
	if !strings.Contains(r.Stdout, "LIMIT/MAX") || !strings.Contains(r.Stdout, "50/s burst 10") || !strings.Contains(r.Stdout, "pool:closed") {
		t.Errorf("gdiag pools shows no overload row for the batch pool\n%s", r)
	}
}

// TestPoolsJSON decodes --json strictly, over the socket and over TCP with
// a token, and checks the figures of a demo under load.
func TestPoolsJSON(t *testing.T) {
	d := sharedDemo(t)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"socket", []string{"pools", d.Socket, "--interval", "500ms", "--json"}},
		{"tcp", []string{"pools", d.TCP, "--token", d.Token, "--interval", "500ms", "--json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := gdiag(t, t.TempDir(), c.args...)
			if r.Code != 0 {
				t.Fatalf("gdiag %s: %s", strings.Join(c.args, " "), r)
			}
			var rep poolsReport
			decodeJSON(t, r, &rep)
			if rep.IntervalSeconds < 0.5 || len(rep.Pools) != 2 {
				t.Fatalf("gdiag pools --json = %+v; want pools http and batch over ≥0.5s", rep)
			}
			for _, p := range rep.Pools {
				if p.Name != "http" && p.Name != "batch" {
					t.Errorf("pool %q; want http or batch", p.Name)
				}
				if p.Submitted == 0 || p.MaxWorkers == 0 {
					t.Errorf("pool %s = %+v; want tasks submitted and workers", p.Name, p)
				}
				// The histograms sample tasks: only the busy pool surely has some.
				if p.Name == "http" && (p.QueueWait.Count == 0 || p.RunTime.P99 <= 0) {
					t.Errorf("pool %s = %+v; want latencies", p.Name, p)
				}
				if p.Rates == nil || p.Name == "http" && p.Rates.SubmittedPerSec <= 0 {
					t.Errorf("pool %s rates = %+v; want tasks/s > 0 under load", p.Name, p.Rates)
				}
				if p.QueueWait.P50 > p.QueueWait.P99 || p.RunTime.P50 > p.RunTime.P99 {
					t.Errorf("pool %s: p50 above p99: %+v", p.Name, p)
				}
				// The demo's batch pool uses every overload control. Whether
				// it sheds depends on the machine (a starved process waits
				// longer in the queue); its configuration does not.
				if o := p.Overload; p.Name == "batch" && (o == nil || o.Rate == nil || o.Rate.PerSecond != 50 || o.ShedTargetSeconds != 0.05 ||
					o.ShedPerSec == nil || len(o.Breakers) != 1 || o.Breakers[0].State != "closed" || o.Limit != p.MaxWorkers) {
					t.Errorf("pool batch overload = %+v; want its rate limit, shedding and closed breaker", o)
				}
				if p.Name == "http" && p.Overload != nil {
					t.Errorf("pool http overload = %+v; want none: it uses no overload control", p.Overload)
				}
			}
		})
	}
}

// TestPoolsOneReading checks that --interval 0 reads once and gives no rates.
func TestPoolsOneReading(t *testing.T) {
	d := sharedDemo(t)
	r := gdiag(t, d.Dir, "pools", strconv.Itoa(d.PID), "--interval", "0", "--json")
	var rep poolsReport
	decodeJSON(t, r, &rep)
	if rep.IntervalSeconds != 0 || len(rep.Pools) == 0 || rep.Pools[0].Rates != nil {
		t.Errorf("gdiag pools --interval 0 --json = %+v; want pools without rates", rep)
	}
	r = gdiag(t, d.Dir, "pools", strconv.Itoa(d.PID), "--interval", "0")
	if r.Code != 0 || strings.Contains(r.Stdout, "rates over") {
		t.Errorf("gdiag pools --interval 0: want a table without rates\n%s", r)
	}
}

// TestPoolsAndSchedUsage checks the errors of both commands that are not
// about reaching the target (TestTargetErrors covers those).
func TestPoolsAndSchedUsage(t *testing.T) {
	d := sharedDemo(t)
	pid := strconv.Itoa(d.PID)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pools", pid, "--interval", "-1s"}, 2, "out of range"},
		{[]string{"pools", pid, "extra"}, 2, "one TARGET"},
		{[]string{"pools", d.Base}, 3, "needs the gdiag agent"},
		{[]string{"sched", d.Base, "--once"}, 3, "needs the gdiag agent"},
		{[]string{"sched", pid, "--interval", "1ms"}, 2, "out of range"},
		{[]string{"sched", pid, "--once", "--count", "3"}, 2, "--once prints one frame"},
		{[]string{"sched"}, 2, "missing TARGET"},
	}
	for _, c := range cases {
		r := gdiag(t, d.Dir, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("gdiag %s: exit %d; want %d and %q\n%s", strings.Join(c.args, " "), r.Code, c.code, c.want, r)
		}
	}
}
