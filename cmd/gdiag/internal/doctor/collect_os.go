package doctor

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/gdiag/gdiag/procfs"
)

// OSReading is what the kernel said about the target's process at one
// moment: its CPU, run delay, cgroup and host figures, and its sockets.
type OSReading struct {
	procfs.Sample
	Sockets   procfs.SocketCount
	SocketErr string // why the sockets could not be counted
}

// locate finds the target's process on this host, so that doctor can read
// what the kernel says about it. A PID or a unix socket is on this host by
// construction; an http:// or HOST:PORT target is when its host is one of
// this machine's addresses and a local process listens on its port (and,
// for an agent, that process is the one the agent names). It returns the
// PID, or 0 and the reason it could not.
func locate(t *target.Target, info apiv1.Info) (int, string) {
	pid, why := locatePID(t, info.PID)
	if pid == 0 || info.PID == 0 {
		return pid, why
	}
	// The agent gives its PID as its own PID namespace sees it; in a
	// container that number is another process here. This host's process
	// of that number must run the same Go program and have started no
	// later than the agent did.
	p, err := target.Inspect(pid)
	if err != nil {
		return 0, err.Error()
	}
	if p.GoVersion != info.GoVersion || p.Module != info.Module {
		return 0, fmt.Sprintf("process %d on this host is %s (%s %s), not the agent's program (%s %s): the agent runs in another PID namespace (a container); gdiag on the agent's host would read its figures",
			pid, p.Name, p.Module, p.GoVersion, info.Module, info.GoVersion)
	}
	if st, err := procfs.StartTime(pid); err == nil && !info.Started.IsZero() && st.After(info.Started.Add(2*time.Second)) {
		return 0, fmt.Sprintf("process %d on this host started after the agent did: it is not the agent's process", pid)
	}
	return pid, ""
}

func locatePID(t *target.Target, agentPID int) (int, string) {
	if runtime.GOOS != "linux" {
		return 0, "the kernel's figures are read from Linux /proc"
	}
	host, port := hostPort(t.Spec)
	if host == "" { // a PID or a socket path
		pid := agentPID
		if pid == 0 {
			pid = t.PID
		}
		if pid == 0 {
			return 0, "the target's PID is unknown"
		}
		return pid, ""
	}
	if !isLocalHost(host) {
		return 0, fmt.Sprintf("%s is not this host (needs the agent's own /proc figures, or gdiag run on the target's host)", host)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, "no port in " + t.Spec
	}
	pid, err := procfs.ListenerPID(p)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("no local process found listening on port %d (%v); a process in another network namespace (a container) is not visible", p, err)
	case agentPID != 0 && pid != agentPID:
		return 0, fmt.Sprintf("port %d belongs to process %d, not to the agent's process %d (another PID namespace?)", p, pid, agentPID)
	}
	return pid, ""
}

// hostPort returns the host and port of an http:// or HOST:PORT target,
// or "" for a PID or a socket path.
func hostPort(spec string) (string, string) {
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		u, err := url.Parse(spec)
		if err != nil {
			return "", ""
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		return u.Hostname(), port
	}
	if _, err := os.Stat(spec); err == nil {
		return "", "" // a socket path
	}
	if h, p, err := net.SplitHostPort(spec); err == nil {
		if h == "" {
			h = "localhost"
		}
		return h, p
	}
	return "", ""
}

// isLocalHost reports whether host names this machine: localhost, a
// loopback address, or an address of one of its interfaces.
func isLocalHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false // a name other than localhost: do not guess
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// readOS takes one reading of the target's process from /proc.
func (c *collector) readOS(ctx context.Context) {
	if c.osPID == 0 {
		return
	}
	s, err := procfs.Read(c.osPID)
	if err != nil {
		if !processAlive(c.osPID) && !c.obs.Agent {
			c.markDied()
		}
		c.failed(ctx, "kernel figures", err)
		return
	}
	r := OSReading{Sample: s}
	if n, err := procfs.Sockets(c.osPID); err == nil {
		r.Sockets = n
	} else {
		r.SocketErr = err.Error()
	}
	c.mu.Lock()
	c.obs.OS = append(c.obs.OS, r)
	c.mu.Unlock()
}

// envValue reads a variable from a process's environment as it was at
// its start; ok is false when it is not set or cannot be read.
func envValue(pid int, name string) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return "", false
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// envGOMAXPROCS reads GOMAXPROCS from the process's environment, 0 when
// it is not set there (or not readable).
func envGOMAXPROCS(pid int) int {
	v, _ := envValue(pid, "GOMAXPROCS")
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return n
	}
	return 0
}

// agentMemoryLimit reads the memory limit the runtime applies, whether
// GOMEMLIMIT or debug.SetMemoryLimit set it, from the agent. An agent
// that does not serve it leaves the environment's GOMEMLIMIT, if read.
func (c *collector) agentMemoryLimit(ctx context.Context) {
	m, err := c.t.Agent.MemoryLimit(ctx)
	if err != nil {
		return
	}
	limit := float64(m.Bytes)
	if m.Bytes == math.MaxInt64 {
		limit = 0
	}
	c.mu.Lock()
	c.obs.MemoryLimit, c.obs.MemoryLimitFrom = limit, "the runtime's limit, from the agent"
	c.mu.Unlock()
}

// envMemoryLimit reads GOMEMLIMIT from a local process's environment.
// It returns the limit in bytes (0 when unset or "off") and where it was
// read, or "" when the environment cannot be read.
func envMemoryLimit(pid int) (float64, string) {
	if pid == 0 {
		return 0, ""
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/environ"); err != nil {
		return 0, ""
	}
	v, ok := envValue(pid, "GOMEMLIMIT")
	if !ok || v == "off" {
		return 0, ""
	}
	n, err := parseMemLimit(v)
	if err != nil {
		return 0, ""
	}
	return n, "GOMEMLIMIT in the environment"
}

// parseMemLimit parses GOMEMLIMIT's form: a byte count with an optional
// unit B, KiB, MiB, GiB or TiB.
func parseMemLimit(s string) (float64, error) {
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.m
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	return float64(n) * mult, nil
}
