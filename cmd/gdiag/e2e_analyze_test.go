package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAnalyze saves one file of each kind from the live demo (a goroutine
// dump, a heap profile, an execution trace) plus a schedtrace log, and
// checks that gdiag analyze recognises each by content, and that bad
// files exit 5 with a message.
func TestAnalyze(t *testing.T) {
	d := sharedDemo(t)
	dir := t.TempDir()
	pid := strconv.Itoa(d.PID)
	files := map[string]string{
		"dump":    filepath.Join(dir, "dump.txt"),
		"profile": filepath.Join(dir, "heap.pb.gz"),
		"trace":   filepath.Join(dir, "trace.out"),
	}
	for _, args := range [][]string{
		{"goroutines", pid, "--save", files["dump"]},
		{"profile", "heap", pid, "--out", files["profile"]},
		{"trace", pid, "--duration", "1s", "--out", files["trace"]},
	} {
		if r := gdiag(t, d.Dir, args...); r.Code != 0 {
			t.Fatalf("gdiag %s: %s", strings.Join(args, " "), r)
		}
	}
	sched, err := filepath.Abs("../../schedstats/testdata/schedtrace_plain.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		want string // in the text output
		code int    // 1 for a verdict that names a problem
	}{
		{files["dump"], "goroutines", 0},
		{files["profile"], "flat", 0},
		{files["trace"], "latency", 0},
		{sched, "verdict: run-queue backlog", 1},
	}
	for _, c := range cases {
		r := gdiag(t, dir, "analyze", c.file)
		if r.Code != c.code || !strings.Contains(strings.ToLower(r.Stdout), c.want) {
			t.Errorf("gdiag analyze %s: want exit %d and %q\n%s", filepath.Base(c.file), c.code, c.want, r)
		}
		if j := gdiag(t, dir, "analyze", c.file, "--json"); j.Code != c.code || !strings.HasPrefix(strings.TrimSpace(j.Stdout), "{") {
			t.Errorf("gdiag analyze %s --json: want a JSON object and exit %d\n%s", filepath.Base(c.file), c.code, j)
		}
	}

	full, _ := os.ReadFile(files["dump"])
	bad := map[string][]byte{
		"garbage.bin":   []byte("\x00\x17 certainly not a diagnostics file"),
		"empty.txt":     nil,
		"truncated.txt": full[:len(full)*2/3],
	}
	for name, data := range bad {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r := gdiag(t, dir, "analyze", p)
		if name == "truncated.txt" && r.Code == 0 {
			continue // a dump cut at a goroutine boundary is a valid, smaller dump
		}
		if r.Code != 5 || !strings.Contains(r.Stderr, name) {
			t.Errorf("gdiag analyze %s: want exit 5 naming the file\n%s", name, r)
		}
	}
}
