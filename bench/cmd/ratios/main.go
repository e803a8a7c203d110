// Command ratios reads benchmark output made of interleaved rounds (each
// round one pass over every benchmark, as the loop in bench/README.md
// makes) and prints, for each configuration, every library's median time
// and its ratio to reference libraries, taken inside each round and then
// the median over the rounds. A ratio inside one round cancels most of
// what a shared, noisy machine adds to both sides, which medians of
// absolute times taken minutes apart do not.
//
// Usage:
//
//	go run ./cmd/ratios [-ref chan,gdiag] new.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// line matches "BenchmarkTiny/queue=workers/lib=gdiag/workers=2-2  200000  340.2 ns/op ...".
var line = regexp.MustCompile(`^Benchmark(\w+)/(.*?)lib=([^/]+)/(\S*?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	refs := flag.String("ref", "chan,gdiag", "comma-separated reference libraries")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ratios [-ref chan,gdiag] FILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	defer f.Close()
	if err := run(os.Stdout, f, strings.Split(*refs, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, r io.Reader, refs []string) error {
	times := map[string]map[string][]float64{} // config -> lib -> ns per round
	var configs, libs []string
	s := bufio.NewScanner(r)
	for s.Scan() {
		m := line.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		config, lib := m[1]+"/"+m[2]+m[4], m[3]
		ns, err := strconv.ParseFloat(m[5], 64)
		if err != nil {
			return err
		}
		if times[config] == nil {
			times[config] = map[string][]float64{}
			configs = append(configs, config)
		}
		if !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
		times[config][lib] = append(times[config][lib], ns)
	}
	if err := s.Err(); err != nil {
		return err
	}
	for _, c := range configs {
		fmt.Fprintf(w, "%s\n  median ns/op:", c)
		for _, lib := range libs {
			if v := times[c][lib]; v != nil {
				fmt.Fprintf(w, " %s %.0f", lib, median(v))
			}
		}
		fmt.Fprintln(w)
		for _, ref := range refs {
			rv := times[c][ref]
			if rv == nil {
				continue
			}
			fmt.Fprintf(w, "  ÷ %s, per round:", ref)
			for _, lib := range libs {
				v := times[c][lib]
				if lib == ref || len(v) != len(rv) {
					continue
				}
				q := make([]float64, len(v))
				for i := range v {
					q[i] = v[i] / rv[i]
				}
				fmt.Fprintf(w, " %s %.2f×", lib, median(q))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
