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
	PID       int    `json:"pid"`
	Name      string `json:"name"` // the command name (comm)
	Exe       string `json:"exe,omitempty"`
	Go        bool   `json:"go"`                  // the executable carries Go build information
	GoVersion string `json:"goVersion,omitempty"` // e.g. "go1.26.8"
	Module    string `json:"module,omitempty"`    // main module path
	Err       string `json:"error,omitempty"`     // why the executable could not be read
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
	p.Name = strings.TrimSpace(string(comm))
	p.Exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	bi, err := buildinfo.ReadFile(filepath.Join(dir, "exe"))
	switch {
	case err == nil:
		p.Go, p.GoVersion, p.Module = true, bi.GoVersion, bi.Main.Path
	case errors.Is(err, fs.ErrPermission):
		p.Err = "executable not readable (another user's process?)"
	case errors.Is(err, fs.ErrNotExist) && p.Exe == "":
		p.Err = "no executable (a kernel thread, or the process has exited)"
	}
	return p, nil
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
