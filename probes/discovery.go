package probes

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/internal/peer"
)

// writeDiscovery writes d to dir/<pid>.json atomically (a temporary file
// renamed into place), so that gdiag ps never reads half a file. The mode
// is 0600: the file may hold the TCP token.
func writeDiscovery(dir string, d apiv1.Discovery) (string, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".discovery-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	path := filepath.Join(dir, strconv.Itoa(d.PID)+".json")
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return path, nil
}

// cleanStale removes the discovery files and sockets of processes that
// no longer exist, and reports how many it removed. Files it cannot parse
// or remove are left alone.
func cleanStale(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 || pid == os.Getpid() || peer.ProcessAlive(pid) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if d, err := apiv1.ReadDiscovery(path); err == nil &&
			d.Socket != "" && filepath.Dir(d.Socket) == filepath.Clean(dir) {
			os.Remove(d.Socket)
		}
		if os.Remove(path) == nil {
			n++
		}
	}
	return n
}
