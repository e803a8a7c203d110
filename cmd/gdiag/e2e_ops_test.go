package main_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOperationsCommands runs gdiag memstats, gc, setgc and memlimit
// against a demo of its own (they change it), over the socket by PID and
// over token TCP, and reads the changes back.
func TestOperationsCommands(t *testing.T) {
	d := startDemoT(t)
	pid := strconv.Itoa(d.PID)

	r := gdiag(t, d.Dir, "memstats", pid, "--json")
	var ms struct {
		MemStats struct {
			HeapInuse uint64
			NumGC     uint32
		} `json:"memStats"`
		GOGC        int   `json:"gogc"`
		MemoryLimit int64 `json:"memoryLimit"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &ms) != nil || ms.MemStats.HeapInuse == 0 || ms.GOGC != 100 {
		t.Fatalf("gdiag memstats --json: %s", r)
	}
	if r := gdiag(t, d.Dir, "memstats", pid); r.Code != 0 || !strings.Contains(r.Stdout, "heap in use") || !strings.Contains(r.Stdout, "GOGC") {
		t.Errorf("gdiag memstats: %s", r)
	}
	if r := gdiag(t, d.Dir, "gc", pid); r.Code != 0 || !strings.HasPrefix(r.Stdout, "GC ran in") {
		t.Errorf("gdiag gc: %s", r)
	}
	var after struct {
		MemStats struct{ NumGC uint32 } `json:"memStats"`
	}
	if r := gdiag(t, d.Dir, "memstats", pid, "--json"); json.Unmarshal([]byte(r.Stdout), &after) != nil || after.MemStats.NumGC <= ms.MemStats.NumGC {
		t.Errorf("NumGC after gdiag gc = %d; want above %d", after.MemStats.NumGC, ms.MemStats.NumGC)
	}

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"setgc", pid, "150"}, "GOGC 150 (was 100)"},
		{[]string{"setgc", pid}, "GOGC 150"},
		{[]string{"setgc", d.TCP, "off", "--token", d.Token}, "GOGC off (was 150)"},
		{[]string{"setgc", pid, "100"}, "GOGC 100 (was off)"},
		{[]string{"memlimit", pid, "2GiB"}, "memory limit 2.00 GiB (was none)"},
		{[]string{"memlimit", pid}, "memory limit 2.00 GiB"},
		{[]string{"memlimit", pid, "off"}, "memory limit none (was 2.00 GiB)"},
	}
	for _, s := range steps {
		if r := gdiag(t, d.Dir, s.args...); r.Code != 0 || strings.TrimSpace(r.Stdout) != s.want {
			t.Errorf("gdiag %s = %s; want %q", strings.Join(s.args, " "), r, s.want)
		}
	}
	var p struct{ Previous, Percent int }
	if r := gdiag(t, d.Dir, "setgc", pid, "80", "--json"); json.Unmarshal([]byte(r.Stdout), &p) != nil || p.Previous != 100 || p.Percent != 80 {
		t.Errorf("gdiag setgc --json: %s", r)
	}
	// Bad values and a wrong token change nothing.
	for _, args := range [][]string{{"setgc", pid, "-5"}, {"memlimit", pid, "12parsecs"}, {"memlimit", pid, "512"}} {
		if r := gdiag(t, d.Dir, args...); r.Code == 0 {
			t.Errorf("gdiag %s succeeded: %s", strings.Join(args, " "), r)
		}
	}
	if r := gdiag(t, d.Dir, "setgc", d.TCP, "5", "--token", "wrong"); r.Code != 8 {
		t.Errorf("gdiag setgc with a wrong token: %s; want exit 8 (refused)", r)
	}
	if r := gdiag(t, d.Dir, "setgc", pid); strings.TrimSpace(r.Stdout) != "GOGC 80" {
		t.Errorf("GOGC after refused changes: %s; want 80", r)
	}
}

// TestProfileEnableRate: a demo that samples no blocking events (the
// runtime's default) has an empty block profile; with --enable-rate the
// agent switches the rate on for the capture and the profile holds the
// demo's waits, and afterwards the rate is off again. A demo that set the
// rate itself is left alone: the runtime does not tell the rate, so it
// could not be restored.
func TestProfileEnableRate(t *testing.T) {
	d := startDemoT(t, "-load", "100", "-contention-profiles=false")
	pid := strconv.Itoa(d.PID)
	dir := t.TempDir()
	var res struct {
		Top struct {
			Samples int `json:"samples"`
		} `json:"top"`
	}
	r := gdiag(t, d.Dir, "profile", "block", pid, "--out", dir+"/before.pb.gz", "--json")
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &res) != nil || res.Top.Samples != 0 {
		t.Fatalf("block profile without the rate: %s; want no samples", r)
	}
	r = gdiag(t, d.Dir, "profile", "block", pid, "--enable-rate", "--duration", "2s", "--out", dir+"/on.pb.gz", "--json")
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &res) != nil || res.Top.Samples == 0 {
		t.Fatalf("block profile with --enable-rate: %s; want samples", r)
	}
	// The rate was restored: a plain block profile gains nothing new
	// after the demo keeps blocking for a while.
	first := gdiag(t, d.Dir, "profile", "block", pid, "--duration", "1s", "--out", dir+"/after.pb.gz", "--json")
	if first.Code != 0 || json.Unmarshal([]byte(first.Stdout), &res) != nil || res.Top.Samples != 0 {
		t.Errorf("delta block profile after --enable-rate: %s; want no new samples (the rate restored to off)", first)
	}
	if r := gdiag(t, d.Dir, "profile", "cpu", pid, "--enable-rate"); r.Code != 2 {
		t.Errorf("gdiag profile cpu --enable-rate: %s; want a usage error", r)
	}
	// The runtime tells no one the block rate: the agent can see that a
	// process sets one only once its profile holds a sample.
	own := startDemoT(t, "-load", "100")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		r := gdiag(t, own.Dir, "profile", "block", strconv.Itoa(own.PID), "--out", dir+"/own0.pb.gz", "--json")
		if r.Code == 0 && json.Unmarshal([]byte(r.Stdout), &res) == nil && res.Top.Samples > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo with its own block rate sampled nothing in a minute: %s", r)
		}
	}
	r = gdiag(t, own.Dir, "profile", "block", strconv.Itoa(own.PID), "--enable-rate", "--duration", "1s", "--out", dir+"/own.pb.gz")
	if r.Code != 6 || !strings.Contains(r.Stderr, "already on") {
		t.Errorf("--enable-rate on a demo with its own block rate: %s; want a refusal (exit 6, already on)", r)
	}
}

// TestSchedShowsOS: gdiag sched shows the kernel's view of the process
// that the agent serves (/v1/os), in text and JSON, over the socket and
// over token TCP.
func TestSchedShowsOS(t *testing.T) {
	d := sharedDemo(t)
	pid := strconv.Itoa(d.PID)
	r := gdiag(t, d.Dir, "sched", pid, "--once")
	if r.Code != 0 || !strings.Contains(r.Stdout, "CPU (OS)") || !strings.Contains(r.Stdout, "HOST") {
		t.Errorf("gdiag sched --once: %s; want the CPU (OS) and HOST rows", r)
	}
	var rep struct {
		OS *struct {
			Sample struct{ PID int } `json:"sample"`
			Rates  struct {
				Seconds  float64 `json:"seconds"`
				HostCPUs int     `json:"hostCPUs"`
			} `json:"rates"`
		} `json:"os"`
	}
	r = gdiag(t, d.Dir, "sched", d.TCP, "--token", d.Token, "--json")
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &rep) != nil || rep.OS == nil || rep.OS.Sample.PID != d.PID || rep.OS.Rates.HostCPUs < 1 {
		t.Errorf("gdiag sched over TCP --json: %s; want .os of pid %d", r, d.PID)
	}
}
