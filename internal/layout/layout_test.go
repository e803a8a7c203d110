package layout_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gdiag/gdiag"

type pkgInfo struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// listPackages runs `go list -deps` over the whole module and returns the
// module's own packages, with every (transitive) dependency of each.
func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps,Standard", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	for dec.More() {
		var p pkgInfo
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list returned no packages")
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func under(r, dir string) bool { return r == dir || strings.HasPrefix(r, dir+"/") }

// isStd reports whether an import path belongs to the standard library:
// its first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestStdlibOnlyPackages(t *testing.T) {
	for _, p := range listPackages(t) {
		r, _ := rel(p.ImportPath)
		if !under(r, "pool") && !under(r, "schedstats") && !under(r, "gdump") && !under(r, "procfs") {
			continue
		}
		for _, d := range p.Deps {
			if !isStd(d) {
				t.Errorf("%s depends on %s; want the standard library only", p.ImportPath, d)
			}
		}
	}
}

func TestProbesImports(t *testing.T) {
	for _, p := range listPackages(t) {
		r, _ := rel(p.ImportPath)
		if !under(r, "probes") {
			continue
		}
		for _, d := range p.Deps {
			dr, own := rel(d)
			switch {
			case isStd(d):
			case own && (under(dr, "schedstats") || under(dr, "pool") || under(dr, "gdump") || under(dr, "apiv1") || under(dr, "procfs") || under(dr, "internal") || under(dr, "probes")):
			default:
				t.Errorf("%s depends on %s; want schedstats, pool, gdump, apiv1, procfs, internal or the standard library", p.ImportPath, d)
			}
		}
	}
}

// TestNothingImportsLeaves keeps exporters, cmd and examples at the edge of
// the graph: only packages of the same subtree may import them, and
// programs (cmd, examples) may import exporters.
func TestNothingImportsLeaves(t *testing.T) {
	for _, p := range listPackages(t) {
		r, _ := rel(p.ImportPath)
		for _, imp := range p.Imports {
			ir, own := rel(imp)
			if !own {
				continue
			}
			for _, leaf := range []string{"exporters", "cmd", "examples"} {
				if !under(ir, leaf) {
					continue
				}
				if sameSubtree(r, ir, leaf) {
					continue
				}
				// Programs are leaves themselves: they may use exporters.
				if leaf == "exporters" && (under(r, "cmd") || under(r, "examples")) {
					continue
				}
				t.Errorf("%s imports %s; nothing outside %s may import it", p.ImportPath, imp, subtree(ir, leaf))
			}
		}
	}
}

// subtree returns the first two path elements of a leaf package (for
// example exporters/prometheus or cmd/gdiag), the unit that may import itself.
func subtree(r, leaf string) string {
	parts := strings.SplitN(r, "/", 3)
	if len(parts) < 2 {
		return leaf
	}
	return parts[0] + "/" + parts[1]
}

func sameSubtree(from, to, leaf string) bool {
	return under(from, subtree(to, leaf))
}

func TestExportersImportOnlyDomainAndSDK(t *testing.T) {
	for _, p := range listPackages(t) {
		r, _ := rel(p.ImportPath)
		if !under(r, "exporters") {
			continue
		}
		for _, imp := range p.Imports {
			ir, own := rel(imp)
			if !own {
				continue
			}
			ok := under(ir, "pool") || under(ir, "schedstats") || under(ir, "probes") || under(ir, "apiv1") || under(ir, "gdump") ||
				under(ir, "internal") || sameSubtree(r, ir, "exporters")
			if !ok {
				t.Errorf("%s imports %s; exporters may import pool, schedstats, probes, internal and their own SDK", p.ImportPath, imp)
			}
		}
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		from, to, leaf string
		want           bool
	}{
		{"cmd/gdiag", "cmd/gdiag/internal/sched", "cmd", true},
		{"probes", "cmd/gdiag/internal/sched", "cmd", false},
		{"exporters/otel", "exporters/prometheus", "exporters", false},
		{"exporters/otel/internal/x", "exporters/otel", "exporters", true},
	}
	for _, tt := range tests {
		if got := sameSubtree(tt.from, tt.to, tt.leaf); got != tt.want {
			t.Errorf("sameSubtree(%q, %q) = %v; want %v", tt.from, tt.to, got, tt.want)
		}
	}
	if isStd("github.com/x/y") || !isStd("net/http") {
		t.Error("isStd misclassifies paths")
	}
}
