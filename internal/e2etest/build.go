package e2etest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildFlags are the go build flags of the programs under test: the race
// detector is on, as in the tests themselves, so that a data race in gdiag
// or in a program it watches fails the end-to-end test that met it (see
// Proc.Races). The packages are already compiled with -race by go test
// -race, so the build mostly links.
var BuildFlags = []string{"-race"}

// Plain are the build flags of a program built without the race detector.
var Plain []string

// BuildTimeout bounds one go build; a cold build on a busy 2-core machine
// takes a few minutes.
const BuildTimeout = 10 * time.Minute

var builds struct {
	mu   sync.Mutex
	dir  string            // parent of every build; removed by RemoveBuilds
	done map[string]string // package → executable
	n    int
}

// Build builds the main packages pkgs, given relative to the module root
// (such as "./examples/demo" or "./cmd/gdiag"), with BuildFlags in one go
// build, and returns their executables in the order of pkgs. A package is
// built once per test binary; later calls return the same path. The
// executables live until RemoveBuilds.
func Build(pkgs ...string) ([]string, error) { return BuildWith(BuildFlags, pkgs...) }

// BuildWith is Build with other go build flags, for a program that stands
// for someone else's service (the race detector's slowdown would change
// what gdiag finds in it, and it holds none of gdiag's code).
func BuildWith(flags []string, pkgs ...string) ([]string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.done == nil {
		builds.done = map[string]string{}
	}
	key := func(p string) string { return strings.Join(flags, " ") + "\x00" + p }
	var todo []string
	for _, p := range pkgs {
		if _, ok := builds.done[key(p)]; !ok {
			todo = append(todo, p)
		}
	}
	if len(todo) > 0 {
		paths, err := buildLocked(flags, todo)
		if err != nil {
			return nil, err
		}
		for i, p := range todo {
			builds.done[key(p)] = paths[i]
		}
	}
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = builds.done[key(p)]
	}
	return out, nil
}

func buildLocked(flags, pkgs []string) ([]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "gdiag-e2e-bin-"); err != nil {
			return nil, err
		}
	}
	builds.n++
	dir := filepath.Join(builds.dir, strconv.Itoa(builds.n))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	args := append(append([]string{"build"}, flags...), "-o", dir+string(os.PathSeparator))
	// go test puts its own GOROOT/bin first on PATH, so "go" is the
	// toolchain that built the test.
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("e2etest: go %s (after %v): %v\n%s", strings.Join(cmd.Args[1:], " "), time.Since(start).Round(time.Second), err, out)
	}
	paths := make([]string, len(pkgs))
	for i, p := range pkgs {
		paths[i] = filepath.Join(dir, path.Base(filepath.ToSlash(filepath.Clean(p))))
	}
	return paths, nil
}

// BuildT is Build for one test: it fails the test when the build fails.
func BuildT(t testing.TB, pkgs ...string) []string {
	t.Helper()
	bins, err := Build(pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

// RemoveBuilds deletes every executable Build made. TestMain calls it
// after m.Run (Main does).
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.done = "", nil
}

// Main runs the tests and removes the built programs; a package's
// TestMain is os.Exit(e2etest.Main(m)).
func Main(m *testing.M) int {
	defer RemoveBuilds()
	return m.Run()
}
