// Command throttled is a service whose container was given too small a
// CPU quota: the shared request load needs about a fifth of a core, and
// the cgroup it runs in allows a tenth. The program itself is the healthy
// one; the fault is outside it, in the kernel's CFS bandwidth control,
// which stops every thread of the cgroup once its quota for the period
// (100 ms) is spent. Go sees long scheduling latency and a backlog; the
// process is not busy, it is throttled.
//
// The end-to-end test puts it in a cgroup of its own (root). By hand, with
// cgroup v1 (v2: write "10000 100000" to cpu.max):
//
//	go build -o /tmp/throttled ./examples/incidents/throttled
//	/tmp/throttled -agent-dir /tmp/gd1 &
//	mkdir /sys/fs/cgroup/cpu/demo
//	echo 10000 > /sys/fs/cgroup/cpu/demo/cpu.cfs_quota_us
//	echo $! > /sys/fs/cgroup/cpu/demo/cgroup.procs
//	GDIAG_DIR=/tmp/gd1 gdiag doctor $!
//
// gdiag doctor should name cpu-starved, with the quota, the throttled
// periods and the CPU used against the quota as evidence.
package main

import "github.com/gdiag/gdiag/examples/incidents/internal/harness"

func main() {
	harness.Main(harness.Program{Name: "throttled"})
}
