package ps_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var gdiagBin, gopsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench-ps-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gdiagBin, gopsBin = filepath.Join(dir, "gdiag"), filepath.Join(dir, "gops")
	gotool := "go" // go test puts its own GOROOT/bin first on PATH
	for _, b := range []struct{ dir, out, pkg string }{
		{"../..", gdiagBin, "./cmd/gdiag"},
		{".", gopsBin, "github.com/google/gops"},
	} {
		cmd := exec.Command(gotool, "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one process as a tool lists it.
type proc struct {
	PID       int
	Name      string
	GoVersion string
}

// gopsList runs gops and reads its listing: PID PPID NAME VERSION PATH,
// with "*" after the PID of processes running its agent.
func gopsList(tb testing.TB) map[int]proc {
	out, err := exec.Command(gopsBin).Output()
	if err != nil {
		tb.Fatalf("gops: %v", err)
	}
	procs := map[int]proc{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSuffix(f[0], "*"))
		if err != nil {
			continue
		}
		procs[pid] = proc{PID: pid, Name: strings.Join(f[2:len(f)-2], " "), GoVersion: f[len(f)-2]}
	}
	return procs
}

// gdiagList runs gdiag ps --json with args.
func gdiagList(tb testing.TB, args ...string) map[int]proc {
	cmd := exec.Command(gdiagBin, append([]string{"ps", "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+tb.TempDir())
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("gdiag ps: %v", err)
	}
	var rows []struct {
		PID       int    `json:"pid"`
		Name      string `json:"name"`
		GoVersion string `json:"goVersion"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		tb.Fatalf("gdiag ps --json: %v", err)
	}
	procs := map[int]proc{}
	for _, r := range rows {
		procs[r.PID] = proc{r.PID, r.Name, r.GoVersion}
	}
	return procs
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestSameProcesses lists the host's Go processes with both tools, one
// after the other, beside two Debian servers started here: every process
// one lists and the other does not must have come or gone in between, or
// be the listing tool itself (gops lists itself; gdiag does not).
func TestSameProcesses(t *testing.T) {
	prom := startServer(t, "prometheus", "--config.file=/dev/null", "--storage.tsdb.path="+t.TempDir())
	node := startServer(t, "prometheus-node-exporter")
	before := map[int]bool{}
	for pid := range gdiagList(t, "--cpu-window", "0", "--probe=false") {
		before[pid] = true
	}
	gops := gopsList(t)
	gd := gdiagList(t, "--cpu-window", "0", "--probe=false")
	stable := func(pid int) bool { return before[pid] && alive(pid) }
	onlyGops, onlyGdiag, same := 0, 0, 0
	for pid, g := range gops {
		d, ok := gd[pid]
		switch {
		case !ok && g.Name == "gops":
			// gops itself
		case !ok && stable(pid):
			onlyGops++
			t.Errorf("gops lists %+v; gdiag ps does not", g)
		case ok && d.GoVersion != g.GoVersion:
			t.Errorf("pid %d: gops says %s, gdiag ps %s", pid, g.GoVersion, d.GoVersion)
		case ok:
			same++
		}
	}
	for pid, d := range gd {
		if _, ok := gops[pid]; !ok && stable(pid) {
			onlyGdiag++
			t.Errorf("gdiag ps lists %+v; gops does not", d)
		}
	}
	for _, pid := range []int{prom, node} {
		if _, ok := gd[pid]; !ok {
			t.Errorf("gdiag ps does not list the server started here (pid %d)", pid)
		}
		if _, ok := gops[pid]; !ok {
			t.Errorf("gops does not list the server started here (pid %d)", pid)
		}
	}
	if n := gd[node].Name; n != "prometheus-node-exporter" {
		t.Errorf("gdiag ps names the node exporter %q; want its full name", n)
	}
	t.Logf("Go processes listed by both: %d (gops: %d with itself; gdiag ps: %d); only by gops: %d; only by gdiag: %d",
		same, len(gops), len(gd), onlyGops, onlyGdiag)
}

// BenchmarkList times one listing of the host's Go processes: gops, gdiag
// ps without the CPU window and the pprof probes (what gops does), and
// gdiag ps as it runs by default (a 250 ms CPU window, then a probe of
// each listening port of each Go process without an agent).
func BenchmarkList(b *testing.B) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"gops", nil},
		{"gdiag", []string{"ps", "--cpu-window", "0", "--probe=false"}},
		{"gdiag-default", []string{"ps"}},
	} {
		b.Run("tool="+c.name, func(b *testing.B) {
			bin := gdiagBin
			if c.name == "gops" {
				bin = gopsBin
			}
			for b.Loop() {
				cmd := exec.Command(bin, c.args...)
				cmd.Env = append(os.Environ(), "GDIAG_DIR="+b.TempDir())
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", c.name, err, out)
				}
			}
		})
	}
}

// startServer starts /usr/bin/NAME on a loopback port and returns its
// pid once it answers; it is stopped when the test ends. Without the
// package it skips, or fails under GDIAG_E2E=1 (CI installs it).
func startServer(t *testing.T, name string, args ...string) int {
	t.Helper()
	path := "/usr/bin/" + name
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("GDIAG_E2E") == "1" {
			t.Fatalf("%s is not installed (scripts/install-debian-servers)", path)
		}
		t.Skipf("%s is not installed", path)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(path, append(args, "--web.listen-address="+addr)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s within a minute", name, addr)
		}
	}
}
