package procfs_test

import (
	"fmt"
	"time"

	"github.com/gdiag/gdiag/procfs"
)

// Two readings of a process a second apart, as Read gives them, turned
// into rates: it used 0.3 of a core and its threads waited 0.6 s for a
// CPU, under a cgroup quota of half a CPU that throttled it in 9 of its
// 10 periods.
func ExampleDiff() {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a := procfs.Sample{Time: t0, PID: 42, CPU: 10 * time.Second, RunDelay: 4 * time.Second,
		Cgroup: procfs.Cgroup{Version: 1, Path: "/sys/fs/cgroup/cpu/app", Quota: 0.5, Periods: 100, Throttled: 50},
		Host:   procfs.Host{CPUs: 2, Total: 200 * time.Second, Busy: 150 * time.Second}}
	b := a
	b.Time, b.CPU, b.RunDelay = t0.Add(time.Second), a.CPU+300*time.Millisecond, a.RunDelay+600*time.Millisecond
	b.Cgroup.Periods, b.Cgroup.Throttled = 110, 59
	b.Host.Total, b.Host.Busy = a.Host.Total+2*time.Second, a.Host.Busy+1800*time.Millisecond

	r := procfs.Diff(a, b)
	fmt.Printf("cpu %.1f cores, run delay %.1f s/s, throttled %.0f%% of periods, host %.0f%% busy, usable %.1f CPUs\n",
		r.CPU, r.RunDelay, 100*r.ThrottledFraction(), 100*r.HostBusy, r.UsableCPUs())
	// Output:
	// cpu 0.3 cores, run delay 0.6 s/s, throttled 90% of periods, host 90% busy, usable 0.5 CPUs
}
