package attack

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
)

func TestMain(m *testing.M) { os.Exit(e2etest.Main(m)) }

// maxRSS is the most memory gdiag may take on any hostile input.
const maxRSS = 512 << 20

// asLimit is the address space a hostile run may reserve (prlimit --as).
const asLimit = 4 << 30

// full reports whether the suite runs at the sizes the README quotes.
func full() bool { return os.Getenv("GDIAG_ATTACK") == "full" }

func size(small, big int64) int64 {
	if full() {
		return big
	}
	return small
}

// gdiagBin builds gdiag as users get it: without the race detector, whose
// shadow memory would make the RSS figures meaningless. GDIAG_ATTACK_BIN
// names another gdiag binary to attack instead.
func gdiagBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GDIAG_ATTACK_BIN"); bin != "" {
		return bin
	}
	bins, err := e2etest.BuildWith(e2etest.Plain, "./cmd/gdiag")
	if err != nil {
		t.Fatal(err)
	}
	return bins[0]
}

// outcome is one hostile run: its exit code, stderr, peak RSS and time.
type outcome struct {
	code   int
	stderr string
	rss    int64
	took   time.Duration
}

func (o outcome) String() string {
	return fmt.Sprintf("exit %d, max RSS %d MiB, %v: %s", o.code, o.rss>>20, o.took.Round(time.Millisecond), strings.TrimSpace(o.stderr))
}

// run runs gdiag with args and stdin (nil for none), sends SIGINT after
// interrupt when it is above zero, and kills it after limit.
func run(t *testing.T, stdin io.Reader, interrupt, limit time.Duration, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// An address-space limit far above the RSS bound keeps a reader
	// that fails the bound from taking the machine down with it: it dies
	// with "out of memory", which check reports as a crash.
	cmd := exec.CommandContext(ctx, "prlimit", append([]string{"--as=" + strconv.Itoa(asLimit), "--", gdiagBin(t)}, args...)...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if interrupt > 0 {
		timer := time.AfterFunc(interrupt, func() { cmd.Process.Signal(syscall.SIGINT) })
		defer timer.Stop()
	}
	cmd.Wait()
	o := outcome{code: cmd.ProcessState.ExitCode(), stderr: stderr.String(), took: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	if ctx.Err() != nil {
		t.Fatalf("gdiag %s still ran after %v (killed): a hang", strings.Join(args, " "), limit)
	}
	return o
}

// crashed matches what a Go program prints when it dies: a panic, a
// fatal error, or a goroutine's traceback.
var crashed = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|SIG[A-Z]+: )`)

// check holds every hostile run to the suite's rule: a clear error (a
// gdiag message, a non-zero exit), no crash, under maxRSS. Input that is
// well formed however large (valid goroutine headers) may also succeed.
func check(t *testing.T, what string, o outcome, mayPass bool) {
	t.Helper()
	t.Logf("%s: %s", what, o)
	switch {
	case o.code < 0 || crashed.MatchString(o.stderr):
		t.Errorf("%s: crashed: %s", what, o)
	case o.code == 0 && !mayPass:
		t.Errorf("%s: exit 0; want an error", what)
	case o.code != 0 && !strings.HasPrefix(o.stderr, "gdiag "):
		t.Errorf("%s: stderr %q; want gdiag's own message", what, o.stderr)
	}
	if o.rss > maxRSS {
		t.Errorf("%s: max RSS %d MiB; want under %d MiB", what, o.rss>>20, maxRSS>>20)
	}
}

// writeFile fills a file in dir with what gen writes.
func writeFile(t *testing.T, name string, gen func(w io.Writer) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := gen(bw); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// zeros writes n zero bytes.
func zeros(w io.Writer, n int64) error {
	_, err := io.CopyN(w, zeroReader{}, n)
	return err
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// garbage is an endless stream of random bytes.
type garbage struct{ r *rand.ChaCha8 }

func (g garbage) Read(p []byte) (int, error) { return g.r.Read(p) }

func newGarbage() garbage { return garbage{rand.NewChaCha8([32]byte{7})} }

// headers is an endless stream of goroutine headers with no stack, the
// cheapest input that looks like a dump.
type headers struct{ n int }

func (h *headers) Read(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		line := fmt.Sprintf("goroutine %d [chan receive, %d minutes]:\n", h.n, h.n%100)
		h.n++
		i += copy(p[i:], line)
	}
	return i, nil
}

// TestHostileFiles feeds gdiag's file readers what an attacker or a
// broken pipeline hands them. Each must end with gdiag's own error,
// under 512 MB of RSS, within minutes.
func TestHostileFiles(t *testing.T) {
	bomb := size(192<<20, 1<<30)
	members := size(2<<20, 8<<20)
	junk := size(64<<20, 1<<30)
	line := size(32<<20, 256<<20)
	heads := size(32<<20, 100<<20)

	gzBomb := writeFile(t, "bomb.pb.gz", func(w io.Writer) error {
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err := zeros(zw, bomb); err != nil {
			return err
		}
		return zw.Close()
	})
	// Concatenated gzip members: each small, their sum unbounded.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zeros(zw, 64<<20)
	zw.Close()
	gzMembers := writeFile(t, "members.pb.gz", func(w io.Writer) error {
		for n := int64(0); n < members; n += int64(member.Len()) {
			if _, err := w.Write(member.Bytes()); err != nil {
				return err
			}
		}
		return nil
	})
	junkFile := writeFile(t, "junk.bin", func(w io.Writer) error { _, err := io.CopyN(w, newGarbage(), junk); return err })
	lineFile := writeFile(t, "line.txt", func(w io.Writer) error {
		io.WriteString(w, "goroutine 1 [running]:\nmain.main(")
		_, err := io.CopyN(w, strings.NewReader(strings.Repeat("x", 1<<20)), 1<<20)
		for n := int64(1 << 20); err == nil && n < line; n += 1 << 20 {
			_, err = io.WriteString(w, strings.Repeat("x", 1<<20))
		}
		return err
	})
	headFile := writeFile(t, "headers.txt", func(w io.Writer) error { _, err := io.CopyN(w, &headers{}, heads); return err })

	limit := 5 * time.Minute
	cases := []struct {
		what    string
		args    []string
		mayPass bool
	}{
		{fmt.Sprintf("analyze a gzip bomb (%d MiB of zeros)", bomb>>20), []string{"analyze", gzBomb}, false},
		{fmt.Sprintf("analyze %d MiB of concatenated gzip members", members>>20), []string{"analyze", gzMembers}, false},
		{fmt.Sprintf("profile's reader on a gzip bomb (%d MiB)", bomb>>20), []string{"analyze", "--json", gzBomb}, false},
		{fmt.Sprintf("analyze %d MiB of random bytes", junk>>20), []string{"analyze", junkFile}, false},
		{fmt.Sprintf("goroutines on %d MiB of random bytes", junk>>20), []string{"goroutines", junkFile}, false},
		{fmt.Sprintf("goroutines on a %d MiB line", line>>20), []string{"goroutines", lineFile}, false},
		{fmt.Sprintf("goroutines on %d MiB of goroutine headers", heads>>20), []string{"goroutines", headFile}, true},
		{fmt.Sprintf("analyze %d MiB of goroutine headers", heads>>20), []string{"analyze", headFile}, true},
	}
	for _, c := range cases {
		check(t, c.what, run(t, nil, 0, limit, c.args...), c.mayPass)
	}
}

// TestEndlessStdin: a pipe that never ends, of garbage or of goroutine
// headers, ends in an error at the reader's bound (--max-size), and
// SIGINT stops the read at once.
func TestEndlessStdin(t *testing.T) {
	max := "256M"
	if full() {
		max = "4G" // gdiag's default bound
	}
	check(t, "goroutines - on endless random bytes", run(t, newGarbage(), 0, 10*time.Minute, "goroutines", "-", "--max-size", max), false)
	check(t, "goroutines - on endless goroutine headers", run(t, &headers{}, 0, 10*time.Minute, "goroutines", "-", "--max-size", max), false)
	o := run(t, &headers{}, 2*time.Second, 2*time.Minute, "goroutines", "-")
	check(t, "goroutines - on endless headers, SIGINT after 2 s", o, false)
	if o.took > 30*time.Second {
		t.Errorf("SIGINT while parsing: gdiag took %v to stop; want it to stop at once", o.took)
	}
}
