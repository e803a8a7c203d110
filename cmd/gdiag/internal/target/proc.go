package target

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Process describes a running process as /proc shows it.
type Process struct {
	PID int `json:"pid"`
	// Name is the program's name: the executable's file name, else that
	// of the command line's first word, else the kernel's command name
	// (comm, cut to 15 bytes: "prometheus-node").
	Name      string `json:"name"`
	Exe       string `json:"exe,omitempty"`
	Go        bool   `json:"go"`                  // the executable carries Go build information
	GoVersion string `json:"goVersion,omitempty"` // e.g. "go1.26.8"
	Module    string `json:"module,omitempty"`    // main module path; empty for a build outside module mode
	// Version is the main module's version: a tag such as "v2.15.2" for
	// a binary built by go install module@version or from a tagged
	// checkout, "(devel)" or empty otherwise.
	Version string `json:"version,omitempty"`
	// Package is the main package's import path, which build information
	// carries for every build, in module mode or not (Debian's
	// "github.com/prometheus/prometheus/cmd/prometheus").
	Package string `json:"package,omitempty"`
	Err     string `json:"error,omitempty"` // why the executable could not be read
}

// ModuleLabel names what p runs for people: the main module with its
// version (path@v1.2.3), else the main package's path, else "-".
func (p Process) ModuleLabel() string {
	switch {
	case p.Module != "" && p.Version != "" && p.Version != "(devel)":
		return p.Module + "@" + p.Version
	case p.Module != "":
		return p.Module
	case p.Package != "":
		return p.Package
	}
	return "-"
}

// ErrNoProcess reports a PID with no process behind it.
var ErrNoProcess = errors.New("no such process")

// Inspect reads pid's name and the Go build information of its executable.
// It returns ErrNoProcess when pid does not exist. A process whose
// executable cannot be read (another user's) has Err set and Go false.
func Inspect(pid int) (Process, error) {
	p := Process{PID: pid}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if errors.Is(err, fs.ErrNotExist) {
		return p, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	p.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	p.Name = programName(dir, p.Exe, strings.TrimSpace(string(comm)))
	bi, err := buildinfo.ReadFile(filepath.Join(dir, "exe"))
	switch {
	case err == nil:
		p.Go, p.GoVersion, p.Module, p.Version, p.Package = true, bi.GoVersion, bi.Main.Path, bi.Main.Version, bi.Path
	case errors.Is(err, fs.ErrPermission):
		p.Err = "executable not readable (another user's process?)"
	case errors.Is(err, fs.ErrNotExist) && p.Exe == "":
		p.Err = "no executable (a kernel thread, or the process has exited)"
	}
	return p, nil
}

// programName is the file name of exe (without the " (deleted)" the
// kernel adds to a replaced executable), else of the first word of the
// command line in dir, else comm.
func programName(dir, exe, comm string) string {
	if exe != "" {
		return filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		arg0, _, _ := strings.Cut(string(b), "\x00")
		if arg0 = filepath.Base(arg0); arg0 != "" && arg0 != "." && arg0 != "/" {
			return arg0
		}
	}
	return comm
}

// Processes lists every process this user can see, by PID.
func Processes() ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes needs /proc: %w", err)
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if p, err := Inspect(pid); err == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}
