package ps

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as the kernel prints it.
	line := "4242 (my (odd) prog) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 9 0 12345 1000000 300 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	u, err := parseStat([]byte(line), 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := usage{PPID: 17, CPU: 3 * time.Second, Start: 123450 * time.Millisecond, Threads: 9, RSS: 300 * 4096}
	if u != want {
		t.Errorf("parseStat(%q) = %+v; want %+v", line, u, want)
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc")
	}
	if u, err := parseStat(self, int64(os.Getpagesize())); err != nil || u.Threads < 1 || u.RSS <= 0 || u.PPID != os.Getppid() {
		t.Errorf("parseStat(/proc/self/stat) = %+v, %v; want this process's figures", u, err)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 2 3", "1 (x) S a b c d e f g h i j k l m n o p q r s t u v w x y"} {
		if _, err := parseStat([]byte(bad), 4096); err == nil {
			t.Errorf("parseStat(%q) succeeded; want an error", bad)
		}
	}
}

func TestParseNetTCP(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0000000000000000 100 0 0 10 0
   2: 0100007F:9C40 0100007F:2382 01 00000000:00000000 00:00000000 00000000     0        0 103 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104 1 0000000000000000 100 0 0 10 0
   4: 0000000000000000FFFF00000100007F:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 105 1 0000000000000000 100 0 0 10 0
   5: garbage
`
	got := map[uint64]netip.AddrPort{}
	parseNetTCP(strings.NewReader(table), got)
	want := map[uint64]string{101: "127.0.0.1:9090", 102: "0.0.0.0:8080", 104: "[::1]:8081", 105: "127.0.0.1:8082"}
	if len(got) != len(want) {
		t.Errorf("parseNetTCP found %v; want %v (listening sockets only)", got, want)
	}
	for inode, addr := range want {
		if got[inode].String() != addr {
			t.Errorf("inode %d: %v; want %s", inode, got[inode], addr)
		}
	}
	if l := listenLabel(got[102]); l != ":8080" {
		t.Errorf("listenLabel(0.0.0.0:8080) = %q; want \":8080\"", l)
	}
}

func TestLabels(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 45 * time.Second: "45s", 21*time.Minute + 10*time.Second: "21m10s",
		3*time.Hour + 2*time.Minute: "3h02m", 5*24*time.Hour + 4*time.Hour: "5d04h",
	} {
		if got := ageLabel(d); got != want {
			t.Errorf("ageLabel(%v) = %q; want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "-", 512 << 10: "512KB", 45 << 20: "45.0MB", 3 << 30: "3.00GB"} {
		if got := bytesLabel(n); got != want {
			t.Errorf("bytesLabel(%d) = %q; want %q", n, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile("/proc/net/tcp"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("1 (a) S 0 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 1 0 1 0 1"))
	f.Add([]byte("0: 0100007F:2382 00000000:0000 0A 0 0 0 0 0 101"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseStat(b, 4096) // must not panic
		parseNetTCP(bytes.NewReader(b), map[uint64]netip.AddrPort{})
	})
}

// TestListNotSelf checks that the listing process, a Go program, is not
// in its own listing, while its parent, go test (a Go program too), is.
func TestListNotSelf(t *testing.T) {
	rows, _, err := List(context.Background(), Options{Dir: t.TempDir(), CPUWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	parent := false
	for _, r := range rows {
		if r.PID == os.Getpid() {
			t.Errorf("List lists the listing process itself: %+v", r)
		}
		parent = parent || r.PID == os.Getppid()
	}
	if p, err := target.Inspect(os.Getppid()); err == nil && p.Go && !parent {
		t.Errorf("List does not list this process's parent, Go program %+v", p)
	}
}
