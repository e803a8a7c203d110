package apiv1

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"
)

// MemStats is the body of GET /v1/memstats: the process's
// runtime.MemStats (under Go's own field names, as expvar serves them),
// with the garbage collector's settings.
type MemStats struct {
	MemStats runtime.MemStats `json:"memStats"`
	// GOGC is the GC percent (debug.SetGCPercent); -1 when the collector
	// is off.
	GOGC int `json:"gogc"`
	// MemoryLimit is the soft memory limit in bytes
	// (debug.SetMemoryLimit); math.MaxInt64 means none.
	MemoryLimit int64 `json:"memoryLimit"`
}

// GC is the body of POST /v1/gc: a garbage collection the agent ran
// (runtime.GC, which blocks until the cycle ends), with the heap before
// and after it.
type GC struct {
	HeapBefore uint64   `json:"heapBefore"` // bytes of live and unswept heap objects before
	HeapAfter  uint64   `json:"heapAfter"`  // after
	Took       Duration `json:"took"`
}

// GCPercent is the body of GET and POST /v1/gcpercent (POST
// ?percent=N|off sets it, as GOGC does). Previous equals Percent for GET.
type GCPercent struct {
	Previous int `json:"previous"` // -1 for off
	Percent  int `json:"percent"`  // -1 for off
}

// MemoryLimit is the body of GET and POST /v1/memlimit (POST
// ?bytes=N|off sets it, as GOMEMLIMIT does). Previous equals Bytes for
// GET; math.MaxInt64 means no limit.
type MemoryLimit struct {
	Previous int64 `json:"previous"`
	Bytes    int64 `json:"bytes"`
}

// MemStats returns the process's memory statistics, GET /v1/memstats.
func (c *Client) MemStats(ctx context.Context) (MemStats, error) {
	var v MemStats
	return v, c.getJSON(ctx, "memstats", nil, &v)
}

// GC runs a garbage collection in the process and waits for it, POST
// /v1/gc. It needs an agent that offers CapOps.
func (c *Client) GC(ctx context.Context) (GC, error) {
	var v GC
	return v, c.doJSON(ctx, http.MethodPost, "gc", nil, &v)
}

// GCPercent returns the process's GOGC, GET /v1/gcpercent.
func (c *Client) GCPercent(ctx context.Context) (GCPercent, error) {
	var v GCPercent
	return v, c.getJSON(ctx, "gcpercent", nil, &v)
}

// SetGCPercent sets the process's GOGC (-1 switches the collector off),
// POST /v1/gcpercent, and returns the previous and new values. It needs
// an agent that offers CapOps.
func (c *Client) SetGCPercent(ctx context.Context, percent int) (GCPercent, error) {
	p := strconv.Itoa(percent)
	if percent < 0 {
		p = "off"
	}
	var v GCPercent
	return v, c.doJSON(ctx, http.MethodPost, "gcpercent", url.Values{"percent": {p}}, &v)
}

// MemoryLimit returns the process's soft memory limit, GET /v1/memlimit.
func (c *Client) MemoryLimit(ctx context.Context) (MemoryLimit, error) {
	var v MemoryLimit
	return v, c.getJSON(ctx, "memlimit", nil, &v)
}

// SetMemoryLimit sets the process's soft memory limit in bytes
// (math.MaxInt64 for none), POST /v1/memlimit, and returns the previous
// and new values. The agent refuses a limit under 1 MiB. It needs an
// agent that offers CapOps.
func (c *Client) SetMemoryLimit(ctx context.Context, bytes int64) (MemoryLimit, error) {
	b := strconv.FormatInt(bytes, 10)
	if bytes == math.MaxInt64 {
		b = "off"
	}
	var v MemoryLimit
	return v, c.doJSON(ctx, http.MethodPost, "memlimit", url.Values{"bytes": {b}}, &v)
}

// ProfileWithRate captures the mutex or block profile over d with the
// profile's sampling rate switched on for the capture and restored after,
// POST /v1/profile/{name}; rate 0 means the agent's default (mutex: 1
// event in 5; block: one sample per 10 µs blocked). The agent refuses to
// touch a block rate that the process set itself. It needs an agent that
// offers CapOps. The caller reads and closes the body.
func (c *Client) ProfileWithRate(ctx context.Context, name string, d time.Duration, rate int) (io.ReadCloser, error) {
	q := url.Values{"duration": {d.String()}}
	if rate > 0 {
		q.Set("rate", strconv.Itoa(rate))
	}
	return c.do(ctx, http.MethodPost, "profile/"+url.PathEscape(name), q, d)
}
