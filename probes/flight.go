package probes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"runtime/trace"
)

// Errors of the flight recorder.
var (
	// ErrFlightActive is wrapped by Start when another flight recorder
	// is already recording in this process: the runtime allows one.
	ErrFlightActive = errors.New("probes: a flight recorder is already active in this process")
	// ErrFlightStopped is returned by Snapshot and WriteTo while the
	// recorder is not started.
	ErrFlightStopped = errors.New("probes: flight recorder not started")
	// ErrNoDir is returned by Snapshot when FlightOptions.Dir is empty.
	ErrNoDir = errors.New("probes: flight recorder has no directory")
)

// defaultFlightFiles is the number of snapshots kept when
// FlightOptions.MaxFiles is 0.
const defaultFlightFiles = 10

// FlightOptions configure a FlightRecorder. The zero value keeps the
// runtime's default window and no snapshot directory.
type FlightOptions struct {
	// Dir receives snapshots. It is created with mode 0700 if missing;
	// snapshots are written 0600, since traces reveal stacks and timing.
	Dir string
	// MaxFiles bounds the snapshots kept in Dir; the oldest are removed.
	// 0 means 10.
	MaxFiles int
	// Period is how much recent history the window should hold
	// (trace.FlightRecorderConfig.MinAge); 0 leaves the runtime's
	// default, a few seconds.
	Period time.Duration
	// MaxBytes caps the window's size and wins over Period; 0 leaves the
	// runtime's default.
	MaxBytes uint64
}

// FlightRecorder keeps the last moments of an execution trace in memory
// (runtime/trace.FlightRecorder) and writes them out on demand, for
// example when an anomaly is detected. Tracing costs a few percent of
// CPU while started. Only one flight recorder may be active per process.
// A FlightRecorder is safe for concurrent use; snapshots are serialised.
type FlightRecorder struct {
	opts FlightOptions

	mu      sync.Mutex // guards fr and started; held across WriteTo
	fr      *trace.FlightRecorder
	started bool
}

// NewFlightRecorder returns a stopped FlightRecorder. It creates
// opts.Dir if set; it fails only if the directory cannot be made.
func NewFlightRecorder(opts FlightOptions) (*FlightRecorder, error) {
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = defaultFlightFiles
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("probes: flight recorder directory: %w", err)
		}
	}
	return &FlightRecorder{opts: opts}, nil
}

// Start begins recording. It wraps ErrFlightActive when another flight
// recorder is active in the process; starting twice is an error too.
func (f *FlightRecorder) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return fmt.Errorf("probes: flight recorder already started")
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: f.opts.Period, MaxBytes: f.opts.MaxBytes})
	if err := fr.Start(); err != nil {
		return fmt.Errorf("%w: %w", ErrFlightActive, err)
	}
	f.fr, f.started = fr, true
	return nil
}

// Stop ends recording and drops the window. Stopping a stopped recorder
// does nothing.
func (f *FlightRecorder) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		f.fr.Stop()
		f.fr, f.started = nil, false
	}
	return nil
}

// WriteTo writes the current window, a complete trace readable by
// "go tool trace", to w.
func (f *FlightRecorder) WriteTo(w io.Writer) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		return 0, ErrFlightStopped
	}
	n, err := f.fr.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("probes: flight recorder: %w", err)
	}
	return n, nil
}

// Snapshot writes the current window to a new file
// gdiag-trace-<UTC time>-<reason>.trace in Dir and removes the oldest
// snapshots beyond MaxFiles. The reason is reduced to letters, digits,
// '-' and '_'. It returns the file's path.
func (f *FlightRecorder) Snapshot(reason string) (path string, err error) {
	if f.opts.Dir == "" {
		return "", ErrNoDir
	}
	tmp, err := os.CreateTemp(f.opts.Dir, ".gdiag-trace-*.tmp")
	if err != nil {
		return "", fmt.Errorf("probes: flight snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = f.WriteTo(tmp); err != nil {
		return "", err
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("probes: flight snapshot: %w", err)
	}
	// The nanosecond UTC time keeps names unique and in time order.
	name := "gdiag-trace-" + time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + cleanReason(reason) + ".trace"
	path = filepath.Join(f.opts.Dir, name)
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("probes: flight snapshot: %w", err)
	}
	return path, f.rotate()
}

// rotate removes the oldest snapshots beyond MaxFiles.
func (f *FlightRecorder) rotate() error {
	names, err := filepath.Glob(filepath.Join(f.opts.Dir, "gdiag-trace-*.trace"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	var errs []error
	for len(names) > f.opts.MaxFiles {
		if err := os.Remove(names[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		names = names[1:]
	}
	return errors.Join(errs...)
}

func cleanReason(r string) string {
	r = strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			return c
		}
		return '_'
	}, r)
	if len(r) > 40 {
		r = r[:40]
	}
	if r == "" {
		r = "manual"
	}
	return r
}
