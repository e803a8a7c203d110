package e2etest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Stream names one of a process's outputs for WaitLine.
type Stream int

// The streams of a Proc.
const (
	Stdout Stream = iota
	Stderr
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Limits on what a Proc keeps of its output.
const (
	maxOutput = 1 << 20 // bytes of combined output kept (the latest)
	maxLines  = 100_000 // lines per stream kept for WaitLine (the first)
)

// ErrKilled is wrapped in Stop's error when the process outlived its
// grace period after SIGTERM and was killed.
var ErrKilled = errors.New("e2etest: killed after the grace period")

// raceReport opens every report of the race detector.
const raceReport = "WARNING: DATA RACE"

// Proc is a started process in its own process group. It keeps the last
// megabyte of its combined output for failure messages and its lines, by
// stream, for WaitLine.
type Proc struct {
	Name string
	Cmd  *exec.Cmd

	done     chan struct{} // closed when the process has been waited for
	err      error         // Wait's error, valid after done
	stopOnce sync.Once
	stopErr  error

	mu      sync.Mutex
	out     []byte
	dropped int
	lines   [2][]string
	changed chan struct{} // closed and replaced on every new line
}

// Start starts cmd (its Stdout and Stderr must be unset) in a new process
// group. The caller must call Stop.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{Name: name, Cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("e2etest: start %s: %w", name, err)
	}
	var copied sync.WaitGroup
	copied.Add(2)
	go p.copy(&copied, Stdout, stdout)
	go p.copy(&copied, Stderr, stderr)
	go func() {
		copied.Wait() // Wait closes the pipes: read them to the end first
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// StartT starts cmd for one test: it fails the test if the process cannot
// start, and when the test ends it stops the process (SIGTERM, then
// SIGKILL after 15 s), fails the test if the process reported a data race,
// and logs the tail of its output if the test failed.
func StartT(t testing.TB, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	p, err := Start(name, cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(15 * time.Second)
		if r := p.Races(); r != "" {
			t.Errorf("%s reported a data race:\n%s", name, r)
		}
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", name, p.Tail(4000))
		}
	})
	return p
}

func (p *Proc) copy(wg *sync.WaitGroup, s Stream, r io.Reader) {
	defer wg.Done()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			p.add(s, line)
		}
		if err != nil {
			return
		}
	}
}

func (p *Proc) add(s Stream, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, line...)
	if over := len(p.out) - maxOutput; over > 0 {
		p.out = append(p.out[:0], p.out[over:]...)
		p.dropped += over
	}
	if len(p.lines[s]) < maxLines {
		p.lines[s] = append(p.lines[s], strings.TrimRight(line, "\r\n"))
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// PID returns the process's ID, which is also its process group's.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Done is closed once the process has exited and its output is read.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err returns the process's exit error (nil for status 0); it is valid
// once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Output returns what the process wrote to stdout and stderr, interleaved
// as it arrived; at most the last megabyte.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped > 0 {
		return fmt.Sprintf("[%d bytes dropped]\n%s", p.dropped, p.out)
	}
	return string(p.out)
}

// Tail returns about the last n bytes of Output.
func (p *Proc) Tail(n int) string {
	s := p.Output()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// Lines returns the lines the process has written to s so far.
func (p *Proc) Lines(s Stream) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines[s]...)
}

// WaitLine waits until a line of s satisfies match and returns it. It
// looks at every line since the start, so a line printed before the call
// counts. It fails when the process exits first or timeout passes.
func (p *Proc) WaitLine(s Stream, timeout time.Duration, match func(string) bool) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines, changed := p.lines[s][seen:], p.changed
		p.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l, nil
			}
		}
		seen += len(lines)
		select {
		case <-changed:
		case <-p.done:
			// Lines may have arrived between the read and the exit.
			p.mu.Lock()
			lines = p.lines[s][seen:]
			p.mu.Unlock()
			for _, l := range lines {
				if match(l) {
					return l, nil
				}
			}
			return "", fmt.Errorf("%s exited (%v) before the awaited line on %s; output:\n%s", p.Name, p.err, s, p.Tail(4000))
		case <-timer.C:
			return "", fmt.Errorf("%s printed no awaited line on %s within %v; output:\n%s", p.Name, s, timeout, p.Tail(4000))
		}
	}
}

// WaitPrefix waits for a line of s that starts with prefix and returns it.
func (p *Proc) WaitPrefix(s Stream, timeout time.Duration, prefix string) (string, error) {
	return p.WaitLine(s, timeout, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// Signal sends sig to the process (not its group).
func (p *Proc) Signal(sig syscall.Signal) error {
	return p.Cmd.Process.Signal(sig)
}

// Stop sends SIGTERM to the process group, waits up to grace, then kills
// the group with SIGKILL. It returns the process's exit error, with
// ErrKilled joined if it had to be killed. Later calls return the same.
func (p *Proc) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			p.stopErr = p.err
			return
		default:
		}
		_ = syscall.Kill(-p.PID(), syscall.SIGTERM)
		select {
		case <-p.done:
			p.stopErr = p.err
			return
		case <-time.After(grace):
		}
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
		p.stopErr = errors.Join(ErrKilled, p.err)
	})
	return p.stopErr
}

// Races returns the race detector's reports, which it writes to standard
// error, or "" when there are none. Standard output is left out: its lines
// interleave with the report's in Output in no fixed order.
func (p *Proc) Races() string {
	out := strings.Join(p.Lines(Stderr), "\n")
	i := strings.Index(out, raceReport)
	if i < 0 {
		return ""
	}
	return out[i:]
}

// HasRace reports whether output holds a report of the race detector.
func HasRace(output string) bool { return strings.Contains(output, raceReport) }
