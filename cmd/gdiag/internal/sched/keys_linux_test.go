//go:build linux

package sched

import (
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal's controlling and terminal sides.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// TestReadKeys types into a pseudo-terminal and checks that the keys
// arrive, that the reader stops, and that the terminal mode is restored.
func TestReadKeys(t *testing.T) {
	defer goleak.VerifyNone(t)
	ptm, pts := openPTY(t)
	before, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	keys, stop, err := readKeys(pts)
	if err != nil {
		t.Fatalf("readKeys(pty) = %v", err)
	}
	raw, _ := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("readKeys left lflag %#x; want raw mode (no ICANON, ECHO, ISIG)", raw.Lflag)
	}
	if _, err := ptm.Write([]byte{'a', 3, 'q'}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	timeout := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case k := <-keys:
			got = append(got, k)
		case <-timeout:
			t.Fatalf("keys after typing a, Ctrl-C, q = %q; want all three within 10s", got)
		}
	}
	if string(got) != "a\x03q" {
		t.Errorf("keys = %q; want %q", got, "a\x03q")
	}
	stop()
	after, _ := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Errorf("terminal mode after stop = %+v; want the original %+v", after, before)
	}
	if _, ok := <-keys; ok {
		t.Errorf("keys still open after stop; want closed")
	}
}

// TestReadKeysNotTerminal checks that a pipe on stdin is refused, so that
// the view falls back to signals.
func TestReadKeysNotTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, _, err := readKeys(r); err == nil {
		t.Errorf("readKeys(pipe) = nil error; want a refusal")
	}
	if s := newScreen(w, r); s.in != nil || s.outTTY {
		t.Errorf("newScreen(pipe, pipe) = %+v; want no terminal", s)
	}
}
