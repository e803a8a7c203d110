package apiv1

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/procfs"
	"github.com/gdiag/gdiag/schedstats"
)

// Version is the API version served under /v1/ and written into discovery files.
const Version = "v1"

// Capabilities name the optional features an endpoint offers; Info lists them.
const (
	CapSnapshot   = "snapshot"
	CapHistory    = "history"
	CapFindings   = "findings"
	CapGoroutines = "goroutines"
	CapPools      = "pools"
	CapProfile    = "profile"
	CapTrace      = "trace"
	CapFlight     = "flight"
	// CapOS: GET /v1/os, what the kernel says about the process's CPU.
	CapOS = "os"
	// CapOps: the operations that change the process (POST /v1/gc,
	// /v1/gcpercent, /v1/memlimit and /v1/profile/{mutex,block}), which
	// only the agent's owner-only socket and token TCP listener offer.
	CapOps = "ops"
)

// Error is the body of every response with a status of 400 or more.
type Error struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

// ReaderStatus says which source fills the agent's snapshots and why.
type ReaderStatus struct {
	// Mode is schedstats.SourceSched or SourceDeep, or SourceRuntimeMetrics
	// when the reader fell back.
	Mode schedstats.Source `json:"mode"`
	// Mirror names the runtime layout mirrored, such as "go1.26"; it is
	// empty when the agent's toolchain has no mirror.
	Mirror string `json:"mirror"`
	// Fallback is true when the mirror was rejected or absent.
	Fallback bool `json:"fallback"`
	// Reason says why the reader fell back (or why deep mode was not
	// used); it is empty when all is well.
	Reason string `json:"reason,omitempty"`
	// Missing lists the runtime/metrics the reader uses that the agent's
	// toolchain does not have (Go 1.25 lacks the thread count, the
	// goroutine states and goroutines created): the parts of a snapshot
	// made of them are not filled, and their Sources say so.
	Missing []string `json:"missing,omitempty"`
}

// Info is the body of GET /v1/info.
type Info struct {
	PID          int          `json:"pid"`
	GoVersion    string       `json:"goVersion"`
	Module       string       `json:"module"` // main module path; empty when unknown
	GOMAXPROCS   int          `json:"gomaxprocs"`
	NumCPU       int          `json:"numCPU"`
	Reader       ReaderStatus `json:"reader"`
	APIVersion   string       `json:"apiVersion"`
	Started      time.Time    `json:"started"`
	Uptime       Duration     `json:"uptime"`
	Capabilities []string     `json:"capabilities"`
	Profiles     []string     `json:"profiles"`    // names accepted by /v1/profile/{name}
	MaxDuration  Duration     `json:"maxDuration"` // longest capture the endpoint accepts
	// GODEBUG is the process's runtime settings; nil from an agent too
	// old to report them.
	GODEBUG *GODEBUG `json:"godebug,omitempty"`
}

// GODEBUG is a process's GODEBUG settings, as comma-separated key=value
// lists: the binary's defaults, which the environment overrides (the last
// setting of a key wins).
type GODEBUG struct {
	// Env is the process's GODEBUG environment variable (such as
	// "asyncpreemptoff=1"); empty when unset.
	Env string `json:"env"`
	// Default is the GODEBUG defaults built into the binary (from its
	// go.mod's godebug lines, //go:debug directives and Go version), its
	// DefaultGODEBUG build setting; empty when there are none or the
	// binary has no build information.
	Default string `json:"default"`
}

// Setting returns the value of key in effect, read as the runtime reads
// it: the last setting of key in Env, else in Default; ok is false when
// neither sets it. Spaces are not trimmed: " asyncpreemptoff=1" sets
// nothing, for the runtime as here.
func (g GODEBUG) Setting(key string) (value string, ok bool) {
	for _, list := range []string{g.Env, g.Default} {
		for kv := range strings.SplitSeq(list, ",") {
			if k, v, found := strings.Cut(kv, "="); found && k == key {
				value, ok = v, true
			}
		}
		if ok {
			return value, true
		}
	}
	return "", false
}

// Snapshot is the body of GET /v1/snapshot: the latest sample. JSON has
// no infinity, so the runtime's infinite outer histogram bounds travel as
// the strings "-Inf" and "+Inf" (see schedstats.Histogram.MarshalJSON),
// which every JSON decoder accepts.
type Snapshot struct {
	Snapshot schedstats.Snapshot `json:"snapshot"`
}

// History is the body of GET /v1/history: the sampler's window, oldest first.
type History struct {
	Interval  Duration              `json:"interval"`
	Snapshots []schedstats.Snapshot `json:"snapshots"`
}

// Findings is the body of GET /v1/findings: what the detectors
// (schedstats.Detect) find in the sampler's history, most severe first.
type Findings struct {
	Findings []schedstats.Finding `json:"findings"`
}

// Goroutines is the body of GET /v1/goroutines: the filters applied and
// the goroutine census.
type Goroutines struct {
	MinWait   Duration `json:"minWait"`
	State     string   `json:"state,omitempty"`
	MaxGroups int      `json:"maxGroups"`
	Census    Census   `json:"census"`
}

// Histogram is a pool's duration histogram, pool.Histogram under a name
// of this package so that it has Seconds: convert a Pool's QueueWait or
// RunTime with apiv1.Histogram(p.QueueWait). Counts[i] counts values at or
// below Bounds[i] (and above Bounds[i-1]); the last count is for values
// above the last bound.
type Histogram pool.Histogram

// Pool is one registered pool's statistics: pool.Stats, whose JSON tags
// are the wire names.
type Pool = pool.Stats

// PoolKey is one task key's share of a pool, pool.KeyStats.
type PoolKey = pool.KeyStats

// Pools is the body of GET /v1/pools.
type Pools struct {
	Pools []Pool `json:"pools"`
}

// OS is the body of GET /v1/os: what the Linux kernel says about the
// agent's own process, so that a client without access to its /proc
// (over token TCP, or in another container) sees it too. Sample is the
// latest reading (CPU time, run delay of its threads, its cgroup's CPU
// quota and throttling, the host's load and steal); Rates are the
// differences since the reading before, at least a second earlier
// (procfs.Diff): CPU used in cores, run delay in seconds per second,
// throttled periods, the host's busy and stolen shares. See
// procfs for where each figure comes from.
type OS struct {
	GOMAXPROCS int           `json:"gomaxprocs"`
	Sample     procfs.Sample `json:"sample"`
	Rates      procfs.Rates  `json:"rates"`
}

// Discovery is the content of a discovery file, <pid>.json, which the
// agent writes next to its socket so that clients find it by PID.
type Discovery struct {
	PID        int       `json:"pid"`
	Socket     string    `json:"socket,omitempty"`
	TCPAddr    string    `json:"tcpAddr,omitempty"`
	Token      string    `json:"token,omitempty"` // only when the agent generated it
	Started    time.Time `json:"started"`
	GoVersion  string    `json:"goVersion"`
	Module     string    `json:"module,omitempty"`
	APIVersion string    `json:"apiVersion"`

	// Path is the file the discovery was read from (set by
	// ReadDiscovery); it is not part of the file.
	Path string `json:"-"`
}

// Census counts the process's goroutines, grouped by state, stack and
// creation site (gdump.GroupGoroutines), largest group first. A group's
// frames carry no arguments or PC offsets: those differ from one goroutine
// to the next.
type Census struct {
	Time       time.Time     `json:"time"`
	Goroutines int           `json:"goroutines"` // all goroutines
	Matched    int           `json:"matched"`    // goroutines kept by the filters
	Groups     []gdump.Group `json:"groups"`
	Omitted    int           `json:"omitted"` // groups dropped by max_groups
}

// Seconds returns h in the layout of schedstats.Histogram, in seconds:
// the bounds 0, h.Bounds... and +Inf around the same counts, so that
// schedstats' Quantile, QuantileBucket and Sub apply to it. A histogram
// whose Counts are not len(Bounds)+1 long gives the empty histogram.
func (h Histogram) Seconds() schedstats.Histogram {
	if len(h.Counts) != len(h.Bounds)+1 {
		return schedstats.Histogram{}
	}
	bounds := make([]float64, 0, len(h.Bounds)+2)
	bounds = append(bounds, 0)
	for _, b := range h.Bounds {
		bounds = append(bounds, b.Seconds())
	}
	return schedstats.Histogram{Bounds: append(bounds, math.Inf(1)), Counts: slices.Clone(h.Counts)}
}
