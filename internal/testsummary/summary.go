package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// event is one line of go test -json (see go doc test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	Elapsed    float64
	ImportPath string // build-output and build-fail
}

// result is how one test ended.
type result struct {
	Package, Test, Action string
	Elapsed               time.Duration
	Output                []string // its lines, without === and --- lines
}

// Reason is a skipped test's message: its output lines, joined.
func (r result) Reason() string {
	var parts []string
	for _, l := range r.Output {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// reader follows a go test -json stream, calling done as each test ends
// and pkg for package-level output and build errors.
type reader struct {
	running map[string][]string // package + "\x00" + test → output so far
	done    func(result)
	pkg     func(line string)
	failed  bool
}

func (r *reader) read(in io.Reader) error {
	r.running = map[string][]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			// Not an event: go test writes some errors (a bad flag, a
			// package that does not exist) as plain text.
			r.pkg(string(line) + "\n")
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
		r.event(e)
	}
	return sc.Err()
}

func (r *reader) event(e event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		r.pkg(e.Output)
	case e.Action == "build-fail":
		r.failed = true
	case e.Test == "":
		switch e.Action {
		case "output":
			if e.Output != "PASS\n" { // plain go test leaves it out too
				r.pkg(e.Output)
			}
		case "fail":
			r.failed = true
			r.unfinished(e.Package)
		}
	case e.Action == "output":
		out := e.Output
		if strings.HasPrefix(out, "=== ") || strings.HasPrefix(strings.TrimSpace(out), "--- ") {
			return
		}
		r.running[key] = append(r.running[key], strings.TrimRight(out, "\n"))
	case e.Action == "pass" || e.Action == "fail" || e.Action == "skip":
		if e.Action == "fail" {
			r.failed = true
		}
		r.done(result{Package: e.Package, Test: e.Test, Action: e.Action,
			Elapsed: time.Duration(e.Elapsed * float64(time.Second)), Output: r.running[key]})
		delete(r.running, key)
	}
}

// unfinished reports the tests of a failed package that never ended (the
// binary panicked or timed out) as failed.
func (r *reader) unfinished(pkg string) {
	var keys []string
	for k := range r.running {
		if strings.HasPrefix(k, pkg+"\x00") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		_, test, _ := strings.Cut(k, "\x00")
		r.done(result{Package: pkg, Test: test, Action: "fail", Output: append(r.running[k], "(the test did not finish)")})
		delete(r.running, k)
	}
}

// stream copies a go test -json stream to w as plain go test would print
// it, with skips shown, and reports whether everything passed.
func stream(in io.Reader, w io.Writer) (bool, error) {
	r := &reader{
		pkg: func(s string) { io.WriteString(w, s) },
		done: func(res result) {
			switch res.Action {
			case "fail":
				fmt.Fprintf(w, "--- FAIL: %s (%s) in %s\n", res.Test, res.Elapsed.Round(10*time.Millisecond), res.Package)
				for _, l := range res.Output {
					fmt.Fprintln(w, l)
				}
			case "skip":
				fmt.Fprintf(w, "--- SKIP: %s in %s: %s\n", res.Test, res.Package, res.Reason())
			}
		},
	}
	err := r.read(in)
	return !r.failed, err
}

// report summarises every test of the runs in and reports whether the
// runs passed with only allowed skips.
func report(in io.Reader, w io.Writer, allow allowList, slowest int) (bool, error) {
	var all []result
	r := &reader{pkg: func(string) {}, done: func(res result) { all = append(all, res) }}
	if err := r.read(in); err != nil {
		return false, err
	}
	var passed, failed, skipped, unexpected int
	var skips []string
	for _, res := range all {
		switch res.Action {
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			skipped++
			why, ok := allow[res.Package+" "+res.Test]
			if ok {
				skips = append(skips, fmt.Sprintf("  %s %s: %s\n      allowed: %s", res.Package, res.Test, res.Reason(), why))
			} else {
				unexpected++
				skips = append(skips, fmt.Sprintf("  %s %s: %s\n      UNEXPECTED: not in the allow-list", res.Package, res.Test, res.Reason()))
			}
		}
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "skipped tests (%d, %d unexpected):\n%s\n", skipped, unexpected, strings.Join(skips, "\n"))
	}
	if slowest > 0 {
		top := slices.Clone(all)
		slices.SortStableFunc(top, func(a, b result) int { return int(b.Elapsed - a.Elapsed) })
		top = slices.DeleteFunc(top, func(r result) bool { return strings.Contains(r.Test, "/") })
		fmt.Fprintln(w, "slowest tests:")
		for _, res := range top[:min(slowest, len(top))] {
			fmt.Fprintf(w, "  %7.1fs  %s %s\n", res.Elapsed.Seconds(), res.Package, res.Test)
		}
	}
	if unexpected > 0 {
		fmt.Fprintf(w, "%d unexpected skipped tests: make them run, or add them to the allow-list with the reason\n", unexpected)
	}
	if passed == 0 {
		fmt.Fprintln(w, "no test passed: the runs ran nothing")
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return failed == 0 && unexpected == 0 && passed > 0 && !r.failed, nil
}

// allowList maps "PACKAGE TEST" to the reason the test may be skipped.
type allowList map[string]string

// parseAllowList reads lines of PACKAGE TEST REASON; blank lines and
// lines starting with # are ignored. Every entry needs a reason.
func parseAllowList(s string) (allowList, error) {
	a := allowList{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("allow-list line %d: want PACKAGE TEST REASON, got %q", i+1, line)
		}
		a[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
	}
	return a, nil
}
