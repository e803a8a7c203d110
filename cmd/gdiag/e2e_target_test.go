package main_test

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPS finds the demo, marked as an agent with its socket.
func TestPS(t *testing.T) {
	d := sharedDemo(t)
	r := gdiag(t, d.Dir, "ps")
	if r.Code != 0 {
		t.Fatalf("gdiag ps: %s", r)
	}
	var line string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == strconv.Itoa(d.PID) {
			line = l
		}
	}
	if !strings.Contains(line, d.Socket) || !strings.Contains(line, "go1.") {
		t.Errorf("gdiag ps line for pid %d = %q; want its socket %s and Go version\n%s", d.PID, line, d.Socket, r)
	}
	var rows []struct {
		PID           int    `json:"pid"`
		Name          string `json:"name"`
		Exe           string `json:"exe"`
		Go            bool   `json:"go"`
		GoVersion     string `json:"goVersion"`
		Module        string `json:"module"`
		Error         string `json:"error"`
		Agent         bool   `json:"agent"`
		Socket        string `json:"socket"`
		TCPAddr       string `json:"tcpAddr"`
		DiscoveryFile string `json:"discoveryFile"`
	}
	r = gdiag(t, d.Dir, "ps", "--agents", "--json")
	decodeJSON(t, r, &rows)
	found := false
	for _, row := range rows {
		if !row.Agent {
			t.Errorf("ps --agents listed pid %d without an agent", row.PID)
		}
		if row.PID == d.PID {
			found = row.Socket == d.Socket && row.TCPAddr == d.TCP && row.Module == "github.com/gdiag/gdiag" && row.Go
		}
	}
	if !found {
		t.Errorf("ps --agents --json has no correct row for pid %d:\n%s", d.PID, r)
	}
}

// TestTargetErrors checks that each kind of bad target gives its exit
// code and a message saying what to do, never a hang.
func TestTargetErrors(t *testing.T) {
	d := sharedDemo(t)
	dead := deadPID(t)
	nonGo := startSleep(t)
	goNoAgent := startDemoNoAgent(t)
	hang := hangingListener(t)
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"dead pid", []string{"pools", strconv.Itoa(dead)}, 3, []string{"no process with PID", "gdiag ps"}},
		{"not go", []string{"pools", strconv.Itoa(nonGo)}, 3, []string{"is not a Go program"}},
		{"go without agent", []string{"pools", strconv.Itoa(goNoAgent)}, 3, []string{"runs no gdiag agent", "probes.Start"}},
		{"wrong token", []string{"pools", d.TCP, "--token", "wrong"}, 8, []string{"401", "--token"}},
		{"no token", []string{"pools", d.TCP}, 2, []string{"needs a token"}},
		{"hanging target", []string{"pools", hang, "--token", "x", "--timeout", "1s"}, 4, []string{"did not answer", "--timeout"}},
		{"garbage target", []string{"pools", "not a target"}, 2, []string{"cannot make sense"}},
		{"file as target", []string{"pools", "harness_test.go"}, 2, []string{"gdiag analyze"}},
		{"missing target", []string{"pools"}, 2, []string{"missing TARGET"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"bad flag", []string{"ps", "--no-such-flag"}, 2, []string{"flag provided but not defined"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := gdiag(t, t.TempDir(), c.args...)
			if r.Code != c.code {
				t.Errorf("gdiag %s: exit %d; want %d\n%s", strings.Join(c.args, " "), r.Code, c.code, r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("gdiag %s: stderr lacks %q\n%s", strings.Join(c.args, " "), w, r)
				}
			}
			if el := time.Since(start); el > 15*time.Second {
				t.Errorf("gdiag %s took %v", strings.Join(c.args, " "), el)
			}
		})
	}
}

// TestHelp checks that gdiag help and every command's --help exit 0 and
// show examples.
func TestHelp(t *testing.T) {
	r := gdiag(t, "", "help")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Commands:") {
		t.Fatalf("gdiag help: %s", r)
	}
	_, list, _ := strings.Cut(r.Stdout, "Commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	checked := 0
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] == "help" || f[0] == "version" {
			continue
		}
		checked++
		h := gdiag(t, "", f[0], "--help")
		if h.Code != 0 || !strings.Contains(h.Stdout, "Usage: gdiag "+f[0]) || !strings.Contains(h.Stdout, "Examples:") {
			t.Errorf("gdiag %s --help: want usage and examples, exit 0\n%s", f[0], h)
		}
	}
	if checked < 8 {
		t.Errorf("gdiag help listed %d commands; want at least 8\n%s", checked, r)
	}
}

func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func startSleep(t *testing.T) int {
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// startDemoNoAgent starts a Go program that runs no agent: the gdiag
// binary itself, waiting on a hanging target.
func startDemoNoAgent(t *testing.T) int {
	cmd := exec.Command(gdiagBin, "pools", hangingListener(t), "--token", "x", "--timeout", "5m")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// hangingListener accepts connections and never answers.
func hangingListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
