package gdump_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/gdump"
)

func TestSplitState(t *testing.T) {
	tests := []struct{ in, status, reason string }{
		{"running", "running", ""},
		{"syscall", "syscall", ""},
		{"chan receive", "waiting", "chan receive"},
		{"chan receive (nil chan)", "waiting", "chan receive (nil chan)"},
		{"chan receive (durable)", "waiting", "chan receive"},
		{"select (leaked)", "leaked", "select"},
		{"runnable (scan)", "runnable", ""},
		{"IO wait", "waiting", "IO wait"},
	}
	for _, tt := range tests {
		if s, r := gdump.SplitState(tt.in); s != tt.status || r != tt.reason {
			t.Errorf("SplitState(%q) = %q, %q; want %q, %q", tt.in, s, r, tt.status, tt.reason)
		}
	}
	g := gdump.Group{State: "chan send"}
	if g.Status() != "waiting" || g.WaitReason() != "chan send" {
		t.Errorf("Group{chan send}: Status %q, WaitReason %q", g.Status(), g.WaitReason())
	}
}

func TestIsStd(t *testing.T) {
	tests := map[string]bool{
		"runtime.gopark":                                    true,
		"internal/poll.runtime_pollWait":                    true,
		"net/http.(*conn).serve":                            true,
		"vendor/golang.org/x/net/http2.(*Framer).ReadFrame": true,
		"panic":                      true,
		"main.main":                  false,
		"example.com/svc.Handle":     false,
		"gopkg.in/yaml.v3.Unmarshal": false,
		"c_crash":                    false,
		"non-Go function":            false,
		"github.com/gdiag/gdiag/testdata/crash/progs/testcrash.TestPanic": false,
	}
	for fn, want := range tests {
		if got := (gdump.Frame{Func: fn}).IsStd(); got != want {
			t.Errorf("Frame{%s}.IsStd() = %v; want %v", fn, got, want)
		}
	}
}

func frames(fns ...string) []gdump.Frame {
	fs := make([]gdump.Frame, len(fns))
	for i, fn := range fns {
		fs[i] = gdump.Frame{Func: fn, File: "/x.go", Line: i + 1}
	}
	return fs
}

func funcs(fs []gdump.Frame) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Func)
	}
	return strings.Join(s, " ")
}

func TestTrim(t *testing.T) {
	io := frames("internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait", "net.(*conn).Read",
		"example.com/svc.(*client).readLoop", "example.com/svc.(*client).run", "example.com/svc.Serve.func1")
	std := frames("internal/poll.runtime_pollWait", "net.(*conn).Read", "bufio.(*Reader).Peek", "net/http.(*conn).serve")
	tests := []struct {
		name         string
		fs           []gdump.Frame
		n            int
		want         string
		inner, outer int
	}{
		{"own frames", io, 2, "example.com/svc.(*client).readLoop example.com/svc.(*client).run", 3, 1},
		{"to the end", io, 3, "example.com/svc.(*client).readLoop example.com/svc.(*client).run example.com/svc.Serve.func1", 3, 0},
		{"more than own", io, 4, "net.(*conn).Read example.com/svc.(*client).readLoop example.com/svc.(*client).run example.com/svc.Serve.func1", 2, 0},
		{"only std", std, 2, "bufio.(*Reader).Peek net/http.(*conn).serve", 2, 0},
		{"all", io, 0, funcs(io), 0, 0},
		{"more than there are", io, 9, funcs(io), 0, 0},
	}
	for _, tt := range tests {
		g := gdump.Group{Frames: tt.fs}.Trim(tt.n)
		if funcs(g.Frames) != tt.want || g.InnerOmitted != tt.inner || g.OuterOmitted != tt.outer {
			t.Errorf("%s: Trim(%d) = %s (%d inner, %d outer omitted); want %s (%d, %d)", tt.name, tt.n,
				funcs(g.Frames), g.InnerOmitted, g.OuterOmitted, tt.want, tt.inner, tt.outer)
		}
	}
	g := gdump.Goroutine{Frames: io}
	if w := g.Where(); w.Func != "example.com/svc.(*client).readLoop" {
		t.Errorf("Where() = %s; want the first frame of example.com/svc", w.Func)
	}
	g.Frames = std
	if w := g.Where(); w.Func != "internal/poll.runtime_pollWait" {
		t.Errorf("Where() of standard-library frames = %s; want the first", w.Func)
	}
}

// endless repeats a goroutine forever.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	s := fmt.Sprintf("goroutine %d [chan receive]:\nmain.worker()\n\t/x.go:1 +0x1\n\n", e.n)
	e.n++
	return copy(p, s), nil // a partial copy only splits a line
}

func TestLimits(t *testing.T) {
	long := "goroutine 1 [running]:\nmain.main(" + strings.Repeat("0x1, ", 1000) + "0x1)\n\t/x.go:1\n"
	if _, err := gdump.Read(strings.NewReader(long), gdump.Options{MaxLine: 1000}); !errors.Is(err, gdump.ErrLimit) ||
		!strings.Contains(err.Error(), "line 2 is longer than 1000 bytes") {
		t.Errorf("Read(a 5 kB line, MaxLine 1000) error = %v; want a *LimitError for line 2", err)
	}
	if d, err := gdump.Read(strings.NewReader(long), gdump.Options{}); err != nil || d.Count != 1 {
		t.Errorf("Read(a 5 kB line) = %d goroutines, %v; want 1, nil", d.Count, err)
	}
	n := 0
	d, err := gdump.Scan(&endless{}, gdump.Options{MaxBytes: 1 << 20}, func(*gdump.Goroutine) error { n++; return nil })
	var le *gdump.LimitError
	if !errors.As(err, &le) || le.What != "input" || le.Limit != 1<<20 || d.Count != n || n < 1000 {
		t.Errorf("Scan(endless, MaxBytes 1 MiB) = %d goroutines, %v; want thousands and a *LimitError", n, err)
	}
	stop := errors.New("stop")
	if _, err := gdump.Scan(&endless{}, gdump.Options{}, func(*gdump.Goroutine) error { return stop }); err != stop {
		t.Errorf("Scan with a failing callback = %v; want its error", err)
	}
	var deep bytes.Buffer
	deep.WriteString("goroutine 1 [running]:\n")
	for i := range 30 {
		fmt.Fprintf(&deep, "main.f%d()\n\t/x.go:%d\n", i, i+1)
	}
	d, err = gdump.Read(&deep, gdump.Options{MaxFrames: 10})
	if err != nil || len(d.Goroutines[0].Frames) != 10 || d.Goroutines[0].ElidedFrames != 20 || !d.Goroutines[0].Elided {
		t.Errorf("Read(30 frames, MaxFrames 10) = %+v, %v; want 10 frames and 20 elided", d.Goroutines, err)
	}
}

func TestGrouperMaxBytes(t *testing.T) {
	gr := gdump.Grouper{MaxBytes: 10 << 10}
	var err error
	for i := 0; err == nil && i < 1000; i++ {
		err = gr.Add(&gdump.Goroutine{ID: uint64(i), State: "sleep", Frames: frames(fmt.Sprintf("main.f%d", i))})
	}
	if !errors.Is(err, gdump.ErrTooManyGroups) || gr.Len() < 10 || gr.Len() > 100 {
		t.Errorf("Grouper{MaxBytes: 10 KiB}: %d groups, %v; want ErrTooManyGroups after tens", gr.Len(), err)
	}
	if err := gr.Add(&gdump.Goroutine{ID: 5000, State: "sleep", Frames: frames("main.f0")}); err != nil {
		t.Errorf("Grouper.Add to an existing group past MaxBytes = %v; want nil", err)
	}
}
