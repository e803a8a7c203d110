package goroutines_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
)

const mb = 1 << 20

// maxRSS bounds the memory gdiag may take on any hostile input.
const maxRSS = 512 * mb

// The gdiag binary the child processes run: built once, without -race,
// as users run it, so that its memory is what they would see.
var (
	buildOnce sync.Once
	gdiagBin  string
	buildErr  error
)

func gdiagBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gdiag-goroutines-test")
		if err != nil {
			buildErr = err
			return
		}
		gdiagBin = filepath.Join(dir, "gdiag")
		out, err := exec.Command("go", "build", "-o", gdiagBin, "github.com/gdiag/gdiag/cmd/gdiag").CombinedOutput()
		if err != nil {
			buildErr = err
			gdiagBin = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/gdiag: %v\n%s", buildErr, gdiagBin)
	}
	return gdiagBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if gdiagBin != "" && buildErr == nil {
		os.RemoveAll(filepath.Dir(gdiagBin))
	}
	os.Exit(code)
}

// inputs are the hostile inputs of issue 12: each writes to gdiag's
// stdin until it is done or gdiag has gone (a write fails). They call
// started once the first megabyte is written.
var inputs = map[string]func(w io.Writer, started func()){
	// 100 MB of goroutine headers, all alike.
	"headers": func(w io.Writer, started func()) {
		const line = "goroutine 1 [running]:\n"
		chunk := []byte(strings.Repeat(line, 1<<15))
		for left := (100*mb + len(line) - 1) / len(line); left > 0; left -= 1 << 15 {
			if _, err := w.Write(chunk[:min(1<<15, left)*len(line)]); err != nil {
				return
			}
		}
	},
	// 100 MB of goroutine headers, each in a state of its own.
	"states": func(w io.Writer, started func()) {
		bw := bufio.NewWriterSize(w, mb)
		defer bw.Flush()
		var b []byte
		for i, n := 0, 0; n < 100*mb; i++ {
			b = strconv.AppendInt(append(b[:0], "goroutine 1 [state "...), int64(i), 10)
			b = append(b, "]:\n"...)
			if _, err := bw.Write(b); err != nil {
				return
			}
			n += len(b)
		}
	},
	// An endless dump of a waiting goroutine.
	"endless": func(w io.Writer, started func()) {
		g := "goroutine 7 [chan receive]:\nmain.worker(0xc000010000)\n\t/src/main.go:40 +0x2a\ncreated by main.main in goroutine 1\n\t/src/main.go:12 +0x3c\n\n"
		chunk := []byte(strings.Repeat(g, mb/len(g)))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			started()
		}
	},
	// A 64 MB line after a header.
	"line": func(w io.Writer, started func()) {
		bw := bufio.NewWriterSize(w, mb)
		defer bw.Flush()
		bw.WriteString("goroutine 1 [running]:\nmain.main(")
		chunk := strings.Repeat("0x1, ", 1000)
		for n := 0; n < 64*mb; n += len(chunk) {
			if _, err := bw.WriteString(chunk); err != nil {
				return
			}
		}
		bw.WriteString("0x1)\n\t/x.go:1\n")
	},
}

type childResult struct {
	code           int
	stdout, stderr string
	rss            int64 // bytes
	took           time.Duration
}

// runGdiag runs "gdiag goroutines ARGS -" on input; sig, when set, is
// sent once the first megabyte is written.
func runGdiag(t *testing.T, input, args string, sig os.Signal) childResult {
	t.Helper()
	cmd := exec.Command(gdiagBinary(t), append(append([]string{"goroutines"}, strings.Fields(args)...), "-")...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that never ends is the fault under test: stop it, and fail.
	kill := time.AfterFunc(3*time.Minute, func() {
		t.Errorf("gdiag goroutines %s - on %s still running after 3 minutes: killed", args, input)
		cmd.Process.Kill()
	})
	defer kill.Stop()
	var once sync.Once
	started := func() {
		once.Do(func() {
			if sig != nil {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Errorf("signal: %v", err)
				}
			}
		})
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		inputs[input](w, started)
		w.Close()
	}()
	err = cmd.Wait() // closes w, so that the feeding goroutine ends
	<-fed
	if cmd.ProcessState == nil {
		t.Fatalf("gdiag on %s: %v", input, err)
	}
	res := childResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return res
}

// TestHostileInput feeds gdiag goroutines - the inputs issue 12 found
// to take gigabytes, or forever: each must end, within maxRSS, in a
// report or a clear error.
func TestHostileInput(t *testing.T) {
	tests := []struct {
		input, args string
		code        int
		want        string // in stdout for exit 0, in stderr otherwise
	}{
		{"headers", "", 0, "stdin: 4559027 goroutines in 1 group: 4559027 running"},
		{"states", "", cli.ExitInput, "more distinct stacks than fit in 64 MB"},
		{"states", "--state state", cli.ExitInput, "more distinct stacks than fit in 32 MB"},
		{"endless", "--max-size 256M", cli.ExitInput, "input is larger than 268435456 bytes"},
		{"line", "", cli.ExitInput, "line 2 is longer than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.input+" "+tt.args), func(t *testing.T) {
			r := runGdiag(t, tt.input, tt.args, nil)
			out := r.stderr
			if tt.code == 0 {
				out = r.stdout
			}
			if r.code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("gdiag goroutines %s - on %s: exit %d; want %d and %q\nstdout: %.500s\nstderr: %.500s", tt.args, tt.input, r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
			if r.rss > maxRSS || r.rss <= 0 {
				t.Errorf("gdiag goroutines on %s: max RSS %d MB; want under %d MB", tt.input, r.rss/mb, maxRSS/mb)
			}
			t.Logf("%s: exit %d in %v, max RSS %d MB", tt.input, r.code, r.took.Round(time.Millisecond), r.rss/mb)
		})
	}
}

// TestInterruptWhileReading sends SIGINT, then SIGTERM, to gdiag
// goroutines reading an endless stdin: it stops at once with exit code 4
// and says it was interrupted.
func TestInterruptWhileReading(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r := runGdiag(t, "endless", "", sig)
			if r.code != cli.ExitTimeout || !strings.Contains(r.stderr, "interrupted while reading stdin") {
				t.Errorf("%v while reading: exit %d; want %d, interrupted\nstderr: %.500s", sig, r.code, cli.ExitTimeout, r.stderr)
			}
			if r.rss > maxRSS {
				t.Errorf("max RSS %d MB; want under %d MB", r.rss/mb, maxRSS/mb)
			}
		})
	}
}

// cancelling reads an endless dump and cancels its context after n bytes.
type cancelling struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelling) Read(p []byte) (int, error) {
	const g = "goroutine 7 [chan receive]:\nmain.worker()\n\t/src/main.go:40 +0x2a\n\n"
	if c.n -= len(p); c.n < 0 {
		c.cancel()
	}
	n := 0
	for n+len(g) <= len(p) {
		n += copy(p[n:], g)
	}
	return n, nil
}

// TestAnalyzeCanceled cancels the context of a read in progress, as
// SIGINT does: Analyze returns the interrupted error, and the reading
// goroutine ends with it.
func TestAnalyzeCanceled(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	err := goroutines.Analyze(ctx, &cli.Env{Stdout: &out, Stderr: &out}, "stdin", &cancelling{n: 4 * mb, cancel: cancel})
	var ce *cli.Error
	if !errors.As(err, &ce) || ce.Code != cli.ExitTimeout || err.Error() != "interrupted while reading stdin" {
		t.Errorf("Analyze on a cancelled read = %v; want exit %d, interrupted while reading stdin", err, cli.ExitTimeout)
	}
}
