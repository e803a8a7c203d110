package procfs

import (
	"errors"
	"time"
)

// ErrUnsupported is returned on systems without a Linux /proc.
var ErrUnsupported = errors.New("procfs: needs Linux /proc")

// ErrNoListener is returned by ListenerPID when no process on this host
// listens on the port (or none that this user may look into).
var ErrNoListener = errors.New("procfs: no local process listens on that port")

// userHZ is the unit of the clock-tick fields of /proc/PID/stat and
// /proc/stat: 100 per second on every Linux architecture Go runs on.
const userHZ = 100

// Sample is one reading of a process's CPU figures and of its host.
// The zero value is an empty reading.
type Sample struct {
	Time time.Time `json:"time"`
	PID  int       `json:"pid"`
	// CPU is the user and system CPU time of all the process's threads
	// since it started.
	CPU time.Duration `json:"cpu"`
	// RunDelay is the time the process's live threads have spent
	// runnable but waiting for a CPU, summed; zero when unavailable.
	RunDelay time.Duration `json:"runDelay"`
	// Threads is the number of threads read for RunDelay.
	Threads int `json:"threads"`
	// CPUsAllowed is how many CPUs the process may run on (its affinity
	// mask); 0 when unknown.
	CPUsAllowed int    `json:"cpusAllowed,omitempty"`
	Cgroup      Cgroup `json:"cgroup"`
	Host        Host   `json:"host"`
	// Unavailable names each part that could not be read, and why.
	Unavailable []string `json:"unavailable,omitempty"`

	delays map[int]time.Duration // run delay per thread
}

// Cgroup is the CPU limit and throttling of the cgroup that limits a
// process. Version 0 means the process's CPU cgroup was not found.
type Cgroup struct {
	Version int    `json:"version,omitempty"` // 1 or 2
	Path    string `json:"path,omitempty"`    // the directory the figures were read from
	// Quota is how many CPUs the quota allows (quota ÷ period); 0 when
	// there is no quota.
	Quota float64 `json:"quota,omitempty"`
	// Periods counts the enforcement periods in which the cgroup had
	// runnable threads, Throttled those in which it ran out of quota, and
	// ThrottledTime the total time its threads were held back.
	Periods       uint64        `json:"periods,omitempty"`
	Throttled     uint64        `json:"throttled,omitempty"`
	ThrottledTime time.Duration `json:"throttledTime,omitempty"`
}

// Host is the machine's CPU load. Busy, Steal and Total count CPU time
// over all CPUs since boot.
type Host struct {
	CPUs    int           `json:"cpus"`    // online CPUs
	Load1   float64       `json:"load1"`   // one-minute load average
	Running int           `json:"running"` // threads running or runnable now
	Busy    time.Duration `json:"busy"`    // not idle and not waiting for IO, steal included
	Steal   time.Duration `json:"steal"`   // time a hypervisor gave to other guests
	Total   time.Duration `json:"total"`
}

// Rates are two Samples' differences over the time between them.
type Rates struct {
	Seconds float64 `json:"seconds"` // wall time between the samples
	// CPU is the CPU the process used, in cores (CPU seconds per second).
	CPU float64 `json:"cpu"`
	// RunDelay is the time its threads waited runnable for a CPU, in
	// seconds per second (summed over threads, so it can exceed 1).
	RunDelay float64 `json:"runDelay"`
	// Quota is the cgroup's CPU limit in CPUs at the second sample; 0
	// when there is none.
	Quota float64 `json:"quota,omitempty"`
	// Periods and Throttled are the cgroup's enforcement periods and
	// throttled periods between the samples; ThrottledTime is the time
	// held back, in seconds per second.
	Periods       uint64  `json:"periods,omitempty"`
	Throttled     uint64  `json:"throttled,omitempty"`
	ThrottledTime float64 `json:"throttledTime,omitempty"`
	// HostCPUs and CPUsAllowed are the host's online CPUs and those the
	// process may use; HostBusy and HostSteal are shares of all the
	// host's CPU time (0 to 1); Load1 and Running are as at the second
	// sample.
	HostCPUs    int     `json:"hostCPUs"`
	CPUsAllowed int     `json:"cpusAllowed,omitempty"`
	HostBusy    float64 `json:"hostBusy"`
	HostSteal   float64 `json:"hostSteal"`
	Load1       float64 `json:"load1"`
	Running     int     `json:"running"`
}

// ThrottledFraction is the share of enforcement periods that were
// throttled, 0 when there were none.
func (r Rates) ThrottledFraction() float64 {
	if r.Periods == 0 {
		return 0
	}
	return float64(r.Throttled) / float64(r.Periods)
}

// UsableCPUs is how many CPUs the process could use at most: the least
// of the host's CPUs, its affinity and its quota (0 figures unknown).
func (r Rates) UsableCPUs() float64 {
	u := float64(r.HostCPUs)
	if r.CPUsAllowed > 0 && (u == 0 || float64(r.CPUsAllowed) < u) {
		u = float64(r.CPUsAllowed)
	}
	if r.Quota > 0 && (u == 0 || r.Quota < u) {
		u = r.Quota
	}
	return u
}

// Diff returns the rates between a and b, two samples of one process, a
// first. Counters that went backwards (a restarted cgroup, another
// process with a reused PID) count as zero.
func Diff(a, b Sample) Rates {
	r := Rates{
		Quota: b.Cgroup.Quota, HostCPUs: b.Host.CPUs, CPUsAllowed: b.CPUsAllowed,
		Load1: b.Host.Load1, Running: b.Host.Running,
	}
	r.Seconds = b.Time.Sub(a.Time).Seconds()
	if r.Seconds <= 0 {
		r.Seconds = 0
		return r
	}
	r.CPU = durSub(b.CPU, a.CPU).Seconds() / r.Seconds
	r.RunDelay = runDelay(a, b).Seconds() / r.Seconds
	if a.Cgroup.Path == b.Cgroup.Path {
		r.Periods = sub(b.Cgroup.Periods, a.Cgroup.Periods)
		r.Throttled = min(sub(b.Cgroup.Throttled, a.Cgroup.Throttled), r.Periods)
		r.ThrottledTime = durSub(b.Cgroup.ThrottledTime, a.Cgroup.ThrottledTime).Seconds() / r.Seconds
	}
	if t := durSub(b.Host.Total, a.Host.Total); t > 0 {
		r.HostBusy = min(float64(durSub(b.Host.Busy, a.Host.Busy))/float64(t), 1)
		r.HostSteal = min(float64(durSub(b.Host.Steal, a.Host.Steal))/float64(t), 1)
	}
	return r
}

// runDelay is the run delay between a and b: per thread when both
// samples carry threads, else the totals'.
func runDelay(a, b Sample) time.Duration {
	if a.delays == nil || b.delays == nil {
		return durSub(b.RunDelay, a.RunDelay)
	}
	var d time.Duration
	for tid, v := range b.delays {
		d += durSub(v, a.delays[tid])
	}
	return d
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func durSub(a, b time.Duration) time.Duration {
	if a < b {
		return 0
	}
	return a - b
}

// SocketCount is how many sockets a process holds.
type SocketCount struct {
	Total       int `json:"total"`       // every socket fd: TCP, UDP, unix
	Established int `json:"established"` // TCP connections established
	Inbound     int `json:"inbound"`     // of those, the ones accepted on one of its listening ports
	Listening   int `json:"listening"`   // TCP listening ports
}
