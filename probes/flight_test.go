package probes

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// traceHeader starts every trace this toolchain writes.
var traceHeader = []byte("go 1.26 trace")

func TestFlightRecorder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "traces")
	f, err := NewFlightRecorder(FlightOptions{Dir: dir, MaxFiles: 3, Period: time.Second, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("Dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	if _, err := f.Snapshot("early"); !errors.Is(err, ErrFlightStopped) {
		t.Fatalf("Snapshot before Start error = %v; want ErrFlightStopped", err)
	}
	if err := f.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	defer f.Stop()

	other, _ := NewFlightRecorder(FlightOptions{})
	if err := other.Start(); !errors.Is(err, ErrFlightActive) {
		other.Stop()
		t.Errorf("second recorder Start() = %v; want ErrFlightActive", err)
	}

	var paths []string
	for i := range 5 {
		time.Sleep(10 * time.Millisecond)
		p, err := f.Snapshot("slow request/" + string(rune('a'+i)))
		if err != nil {
			t.Fatalf("Snapshot %d error = %v", i, err)
		}
		paths = append(paths, p)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(names) != 3 {
		t.Fatalf("Dir holds %v; want the 3 newest snapshots", names)
	}
	for i, p := range paths {
		_, err := os.Stat(p)
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("snapshot %d (%s) exists = %v; want %v", i, p, err == nil, kept)
		}
	}
	last := paths[4]
	if !strings.HasPrefix(filepath.Base(last), "gdiag-trace-") || !strings.HasSuffix(last, "-slow_request_e.trace") {
		t.Errorf("Snapshot path = %s; want gdiag-trace-<time>-slow_request_e.trace", last)
	}
	b, err := os.ReadFile(last)
	if err != nil || !bytes.HasPrefix(b, traceHeader) {
		t.Errorf("snapshot starts %q (%v); want %q", b[:min(len(b), 16)], err, traceHeader)
	}
	if st, _ := os.Stat(last); st.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode = %v; want 0600", st.Mode().Perm())
	}

	var buf bytes.Buffer
	if n, err := f.WriteTo(&buf); err != nil || n != int64(buf.Len()) || !bytes.HasPrefix(buf.Bytes(), traceHeader) {
		t.Errorf("WriteTo = %d, %v; want a trace", n, err)
	}
	if err := f.Stop(); err != nil {
		t.Errorf("Stop() = %v", err)
	}
	if _, err := f.WriteTo(&buf); !errors.Is(err, ErrFlightStopped) {
		t.Errorf("WriteTo after Stop error = %v; want ErrFlightStopped", err)
	}
	// The runtime's slot is free again.
	if err := other.Start(); err != nil {
		t.Errorf("Start after the first stopped = %v", err)
	}
	other.Stop()
	goleak.VerifyNone(t)
}

func TestCleanReason(t *testing.T) {
	for in, want := range map[string]string{"": "manual", "gc-pause": "gc-pause", "a/b c": "a_b_c", strings.Repeat("x", 50): strings.Repeat("x", 40)} {
		if got := cleanReason(in); got != want {
			t.Errorf("cleanReason(%q) = %q; want %q", in, got, want)
		}
	}
}
