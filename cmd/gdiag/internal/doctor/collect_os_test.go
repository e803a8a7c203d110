package doctor

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// TestLocate: doctor reads /proc for an agent's PID only when this host's
// process of that number is the agent's program; an agent in another PID
// namespace names a PID that is some other process here.
func TestLocate(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information in the test binary")
	}
	self := os.Getpid()
	tg := &target.Target{Spec: strconv.Itoa(self), PID: self}
	info := apiv1.Info{PID: self, GoVersion: bi.GoVersion, Module: bi.Main.Path, Started: time.Now()}
	if pid, why := locate(tg, info); pid != self {
		t.Errorf("locate(this process) = %d, %q; want %d", pid, why, self)
	}
	other := info
	other.Module = "example.com/elsewhere"
	if pid, why := locate(tg, other); pid != 0 || !strings.Contains(why, "another PID namespace") {
		t.Errorf("locate(another program's PID) = %d, %q; want 0 and the reason", pid, why)
	}
	early := info
	early.Started = time.Now().Add(-time.Hour)
	if pid, _ := locate(tg, early); pid != 0 {
		t.Errorf("locate(an agent older than the process) = %d; want 0", pid)
	}
	remote := &target.Target{Spec: "http://192.0.2.7:6060"}
	if pid, why := locate(remote, apiv1.Info{}); pid != 0 || !strings.Contains(why, "not this host") {
		t.Errorf("locate(a remote URL) = %d, %q; want 0, not this host", pid, why)
	}
}

func TestIsLocalHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true, "192.0.2.7": false, "example.com": false} {
		if got := isLocalHost(host); got != want {
			t.Errorf("isLocalHost(%q) = %v; want %v", host, got, want)
		}
	}
}
