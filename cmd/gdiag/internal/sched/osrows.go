package sched

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/apiv1"
)

// osRows shows what the kernel says of the process: CPU used against
// what it may use, the cgroup's throttling, the run delay of its threads
// (time runnable without a CPU), and the host's load. A process that
// wants CPU and does not get it (throttled, or waiting behind other
// processes) reads here, while the Go scheduler's own figures above only
// show the backlog it causes.
func osRows(v *apiv1.OS) []line {
	if v == nil {
		return nil
	}
	r := v.Rates
	if r.Seconds <= 0 {
		return []line{{text: fmt.Sprintf("%-*s%s", labelWidth, "CPU (OS)", "reading…"), prio: 1}}
	}
	var cpu strings.Builder
	fmt.Fprintf(&cpu, "used %s of %d Ps", cores(r.CPU), v.GOMAXPROCS)
	if r.Quota > 0 {
		fmt.Fprintf(&cpu, "  quota %s", cores(r.Quota))
	}
	if r.CPUsAllowed > 0 && r.CPUsAllowed < r.HostCPUs {
		fmt.Fprintf(&cpu, "  CPUs allowed %d", r.CPUsAllowed)
	}
	fmt.Fprintf(&cpu, "  run delay %s/s", strconv.FormatFloat(r.RunDelay, 'f', 2, 64)+"s")
	ls := []line{{text: fmt.Sprintf("%-*s%s", labelWidth, "CPU (OS)", cpu.String()), prio: 1}}
	if r.Periods > 0 || r.Quota > 0 {
		thr := fmt.Sprintf("%d of %d periods (%.0f%%)  held back %.2fs/s", r.Throttled, r.Periods, 100*r.ThrottledFraction(), r.ThrottledTime)
		ls = append(ls, line{text: fmt.Sprintf("%-*s%s", labelWidth, "THROTTLED", thr), prio: 1})
	}
	host := fmt.Sprintf("busy %.0f%%  steal %.0f%%  load %.2f on %d CPUs", 100*r.HostBusy, 100*r.HostSteal, r.Load1, r.HostCPUs)
	return append(ls, line{text: fmt.Sprintf("%-*s%s", labelWidth, "HOST", host), prio: 2})
}

// cores prints a CPU figure in cores.
func cores(c float64) string {
	return strconv.FormatFloat(c, 'f', 2, 64) + " cores"
}
