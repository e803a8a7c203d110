package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

func TestLabel(t *testing.T) {
	cases := []struct {
		t    target.Target
		want string
	}{
		{target.Target{Spec: "1234", PID: 1234}, "1234"},
		{target.Target{Spec: "/tmp/gd1/99.sock", PID: 99}, "99"},
		{target.Target{Spec: "/tmp/gd1/agent.sock"}, "agent"},
		{target.Target{Spec: "127.0.0.1:6060"}, "127.0.0.1_6060"},
		{target.Target{Spec: "http://localhost:6060/debug/pprof/"}, "localhost_6060"},
		{target.Target{Spec: "[::1]:80"}, "___1__80"},
		{target.Target{Spec: "/"}, "_"},
	}
	for _, c := range cases {
		if got := Label(&c.t); got != c.want {
			t.Errorf("Label(%q) = %q; want %q", c.t.Spec, got, c.want)
		}
	}
}

func TestSaveNoOverwrite(t *testing.T) {
	t.Chdir(t.TempDir())
	var paths []string
	for i := range 3 {
		p, err := Save("", "x-cpu", ".pb.gz", []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if want := "x-cpu.pb.gz x-cpu-1.pb.gz x-cpu-2.pb.gz"; strings.Join(paths, " ") != want {
		t.Errorf("Save three times = %v; want %s", paths, want)
	}
	for i, p := range paths {
		if b, _ := os.ReadFile(p); len(b) != 1 || b[0] != byte(i) {
			t.Errorf("Save wrote %v to %s; want [%d]", b, p, i)
		}
	}
	out := filepath.Join(t.TempDir(), "given")
	if p, err := Save(out, "ignored", ".x", []byte("a")); err != nil || p != out {
		t.Errorf("Save(%s) = %s, %v; want the path given", out, p, err)
	}
	if _, err := Save(filepath.Join(t.TempDir(), "no", "such", "dir"), "", "", nil); err == nil {
		t.Error("Save into a missing directory = nil; want an error")
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	Progress(&buf, "capturing cpu profile", 5*time.Second)()
	if got, want := buf.String(), "capturing cpu profile for 5s…\n"; got != want {
		t.Errorf("Progress to a non-terminal wrote %q; want %q", got, want)
	}
	buf.Reset()
	Progress(&buf, "x", 0)()
	if buf.Len() != 0 {
		t.Errorf("Progress with no duration wrote %q; want nothing", buf.String())
	}
	for _, c := range []struct {
		el   time.Duration
		want string
	}{
		{0, "[                    ]  0.0s/5s"},
		{2500 * time.Millisecond, "[==========          ]  2.5s/5s"},
		{7 * time.Second, "[====================]  5.0s/5s"},
	} {
		if got := bar(c.el, 5*time.Second); got != c.want {
			t.Errorf("bar(%v, 5s) = %q; want %q", c.el, got, c.want)
		}
	}
}
