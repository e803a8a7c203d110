package e2etest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// DemoPackage is the demo service's package, relative to the module root.
const DemoPackage = "./examples/demo"

// Demo is a running examples/demo service.
type Demo struct {
	*Proc
	URL      string // http://127.0.0.1:PORT
	AgentDir string // the agent's socket and discovery file, mode 0700
}

var demoListening = regexp.MustCompile(`^demo: listening on (http://127\.0\.0\.1:\d+)$`)

// StartDemo builds the demo with BuildFlags (once per test binary) and
// starts it on a free loopback port, with its agent in a new private
// directory, env added to the environment and flags after the defaults (a
// later flag wins). It returns once the demo has printed its address: its
// first line. The caller must call Stop. -duration 10m bounds its life
// should the test binary die.
func StartDemo(env []string, flags ...string) (*Demo, error) {
	return StartDemoBuiltWith(BuildFlags, env, flags...)
}

// StartDemoBuiltWith is StartDemo with other go build flags: Plain for a
// test that judges the demo's health by its timing, which the race
// detector's overhead changes (its batch jobs take about twice as long,
// which is all the headroom its batch pool has).
func StartDemoBuiltWith(buildFlags, env []string, flags ...string) (*Demo, error) {
	bins, err := BuildWith(buildFlags, DemoPackage)
	if err != nil {
		return nil, err
	}
	// Short: a socket path is limited to 108 bytes. MkdirTemp makes it
	// 0700, which probes requires of a socket directory.
	dir, err := os.MkdirTemp("", "gd")
	if err != nil {
		return nil, err
	}
	args := append([]string{"-listen", "127.0.0.1:0", "-agent-dir", dir, "-duration", "10m"}, flags...)
	cmd := exec.Command(bins[0], args...)
	cmd.Env = append(os.Environ(), env...)
	p, err := Start("demo", cmd)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &Demo{Proc: p, AgentDir: dir}
	first, err := p.WaitLine(Stdout, 60*time.Second, func(string) bool { return true })
	if err == nil {
		if m := demoListening.FindStringSubmatch(first); m != nil {
			d.URL = m[1]
		} else {
			err = fmt.Errorf("demo's first line = %q; want a match for %s", first, demoListening)
		}
	}
	if err != nil {
		d.Stop(15 * time.Second)
		return nil, err
	}
	return d, nil
}

// StartDemoT is StartDemo for one test: the demo is stopped when the test
// ends, and a data race it reported fails the test.
func StartDemoT(t testing.TB, env []string, flags ...string) *Demo {
	t.Helper()
	return StartDemoBuiltWithT(t, BuildFlags, env, flags...)
}

// StartDemoBuiltWithT is StartDemoBuiltWith for one test, as StartDemoT.
func StartDemoBuiltWithT(t testing.TB, buildFlags, env []string, flags ...string) *Demo {
	t.Helper()
	d, err := StartDemoBuiltWith(buildFlags, env, flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Stop(20 * time.Second)
		if r := d.Races(); r != "" {
			t.Errorf("the demo reported a data race:\n%s", r)
		}
		if t.Failed() {
			t.Logf("demo output (tail):\n%s", d.Tail(4000))
		}
	})
	return d
}

// Addr returns the demo's host:port.
func (d *Demo) Addr() string { return strings.TrimPrefix(d.URL, "http://") }

// Stop stops the demo (SIGTERM lets it flush its exporters; SIGKILL after
// grace) and removes its agent directory. It returns the demo's exit
// error; later calls return the same.
func (d *Demo) Stop(grace time.Duration) error {
	err := d.Proc.Stop(grace)
	os.RemoveAll(d.AgentDir)
	return err
}
