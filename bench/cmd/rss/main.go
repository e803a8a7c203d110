// Command rss measures the memory one library needs to run many sleeping
// tasks: peak resident set (VmHWM), peak heap and stacks, and the most
// goroutines seen. The peak resident set is per process, so with -lib all the
// command runs itself once per library and collects the results.
//
// Usage:
//
//	go run ./cmd/rss -lib conc                # one JSON object
//	go run ./cmd/rss -lib all -format table   # every library, a Markdown table
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/gdiag/gdiag/bench"
)

func main() {
	lib := flag.String("lib", "all", "library to run, or all (one process each)")
	tasks := flag.Int("tasks", 1_000_000, "tasks to submit")
	workers := flag.Int("workers", 10_000, "workers")
	sleep := flag.Duration("sleep", 10*time.Millisecond, "how long each task sleeps")
	every := flag.Duration("every", 5*time.Millisecond, "sampling period of runtime/metrics")
	format := flag.String("format", "json", "json (one object a line) or table (Markdown)")
	flag.Parse()

	var results []bench.Result
	if *lib == "all" {
		for _, l := range bench.Libraries() {
			res, err := child(l.Name)
			if err != nil {
				fmt.Fprintf(os.Stderr, "rss: %s: %v\n", l.Name, err)
				os.Exit(1)
			}
			results = append(results, res)
		}
	} else {
		l, ok := bench.LibraryByName(*lib)
		if !ok {
			fmt.Fprintf(os.Stderr, "rss: unknown library %q\n", *lib)
			os.Exit(2)
		}
		res, err := bench.Measure(l, *tasks, *workers, *sleep, *every)
		if err != nil {
			fmt.Fprintf(os.Stderr, "rss: %v\n", err)
			os.Exit(1)
		}
		results = append(results, res)
	}
	if err := write(os.Stdout, *format, results); err != nil {
		fmt.Fprintf(os.Stderr, "rss: %v\n", err)
		os.Exit(1)
	}
}

// child runs this program again for one library, so that VmHWM is that
// library's alone.
func child(lib string) (bench.Result, error) {
	var rest []string
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "lib" && f.Name != "format" {
			rest = append(rest, "-"+f.Name+"="+f.Value.String())
		}
	})
	exe, err := os.Executable()
	if err != nil {
		return bench.Result{}, err
	}
	cmd := exec.Command(exe, append([]string{"-lib", lib, "-format", "json"}, rest...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return bench.Result{}, err
	}
	var res bench.Result
	err = json.Unmarshal(bytes.TrimSpace(out), &res)
	return res, err
}

func write(w io.Writer, format string, results []bench.Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "table":
		const mib = 1 << 20
		fmt.Fprintln(w, "| lib | wall (s) | peak RSS (MiB) | peak heap (MiB) | peak stacks (MiB) | max goroutines |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, r := range results {
			fmt.Fprintf(w, "| %s | %.2f | %.1f | %.1f | %.1f | %d |\n", r.Lib, r.WallSeconds,
				float64(r.PeakRSSBytes)/mib, float64(r.PeakHeapBytes)/mib,
				float64(r.PeakStackBytes)/mib, r.MaxGoroutines)
		}
		return nil
	}
	return fmt.Errorf("unknown format %q", format)
}
