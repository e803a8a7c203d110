package target

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/apiv1"
)

// Dirs lists the directories where agents write discovery files: dir when
// given, else the agents' defaults ($XDG_RUNTIME_DIR/gdiag, then
// $TMPDIR/gdiag-<uid>), the same list probes.Start tries.
func Dirs(dir string) []string {
	if dir != "" {
		return []string{dir}
	}
	var dirs []string
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		dirs = append(dirs, filepath.Join(x, "gdiag"))
	}
	return append(dirs, filepath.Join(os.TempDir(), "gdiag-"+strconv.Itoa(os.Getuid())))
}

// Agent is a discovery file of a live process.
type Agent struct {
	apiv1.Discovery
	Path string `json:"discoveryFile"` // the file it was read from
}

// Discover returns the agents whose discovery files are in dirs and whose
// processes are alive, by PID. Unreadable or malformed files are skipped:
// they belong to processes gdiag cannot talk to anyway.
func Discover(dirs []string) []Agent {
	seen := map[int]bool{}
	var out []Agent
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".json")
			pid, err := strconv.Atoi(name)
			if !ok || err != nil || pid <= 0 || seen[pid] || !e.Type().IsRegular() {
				continue
			}
			a, ok := readDiscovery(filepath.Join(dir, e.Name()))
			if ok && a.PID == pid && alive(pid) {
				seen[pid] = true
				out = append(out, a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// FindAgent returns the discovery file of pid, if it has one.
func FindAgent(dirs []string, pid int) (Agent, bool) {
	for _, a := range Discover(dirs) {
		if a.PID == pid {
			return a, true
		}
	}
	return Agent{}, false
}

func readDiscovery(path string) (Agent, bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 1<<20 {
		return Agent{}, false
	}
	var d apiv1.Discovery
	if json.Unmarshal(b, &d) != nil {
		return Agent{}, false
	}
	return Agent{Discovery: d, Path: path}, true
}
