// Command signals measures an incident program through the agent API, the
// way gdiag doctor sees it, and prints the figures quoted in
// examples/incidents/README.md. It starts the program (a built binary)
// with a private agent directory, waits for its ready line and a warm-up,
// reads /v1/pools and the text heap profile (runtime.MemStats) at the
// start and the end of the window and /v1/history and /v1/findings at
// the end, through the apiv1 client, stops the program with SIGTERM, and
// prints one line per signal.
//
//	go build -o /tmp/inc/ ./examples/incidents/...
//	go run ./examples/incidents/internal/signals [-warmup 5s] [-window 15s] /tmp/inc/leak
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

func main() {
	warmup := flag.Duration("warmup", 5*time.Second, "wait this long after the ready line")
	window := flag.Duration("window", 15*time.Second, "measure over this window")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: signals [-warmup 5s] [-window 15s] PROGRAM-BINARY")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *window < 2*time.Second {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *warmup, *window, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signals:", err)
		os.Exit(1)
	}
}

// reading is what the window's start or end shows.
type reading struct {
	at    time.Time
	pools []apiv1.Pool
	mem   map[string]float64 // runtime.MemStats fields from the heap profile
}

func run(bin string, warmup, window time.Duration, w io.Writer) error {
	dir, err := os.MkdirTemp("", "gds") // short: socket paths are limited to 108 bytes
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(bin, "-agent-dir", dir, "-duration", (warmup + window + time.Minute).String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasSuffix(line, "ready\n") {
		return fmt.Errorf("no ready line from %s: %q, %v", bin, line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	c, err := apiv1.NewClient(strconv.Itoa(cmd.Process.Pid), apiv1.ClientOptions{Dir: dir, Timeout: 30 * time.Second})
	if err != nil {
		return err
	}
	ctx := context.Background()

	time.Sleep(warmup)
	start, err := read(ctx, c)
	if err != nil {
		return err
	}
	time.Sleep(window)
	end, err := read(ctx, c)
	if err != nil {
		return err
	}
	hist, err := c.History(ctx, 0)
	if err != nil {
		return err
	}
	finds, err := c.Findings(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s (pid %d), window %v after %v of warm-up\n", filepath.Base(bin), cmd.Process.Pid, window, warmup)
	printHistory(w, hist, start.at)
	printPools(w, start, end)
	printMem(w, start, end)
	for _, f := range finds {
		fmt.Fprintf(w, "agent finding (whole history): %s %s: %s\n", f.Cause, f.Severity, f.Summary)
	}
	return nil
}

func read(ctx context.Context, c *apiv1.Client) (reading, error) {
	r := reading{at: time.Now(), mem: map[string]float64{}}
	var err error
	if r.pools, err = c.Pools(ctx); err != nil {
		return r, err
	}
	body, err := c.Profile(ctx, "heap", 0, 1)
	if err != nil {
		return r, err
	}
	heap, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return r, err
	}
	for l := range strings.SplitSeq(string(heap), "\n") {
		if name, val, ok := strings.Cut(strings.TrimPrefix(l, "# "), " = "); ok && l != name {
			if v, err := strconv.ParseFloat(val, 64); err == nil {
				r.mem[name] = v
			}
		}
	}
	return r, nil
}
