package main_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/hostile"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// maxRSS bounds the memory gdiag may take on any hostile input.
const maxRSS = 512 << 20

// TestHostileProfiles feeds gdiag gzip bombs as profile files and as a
// pprof target's answers: a 1 MB file inflating to 1 GiB, and 8 MB of
// concatenated gzip members (8 GiB). Each must end in a clear error
// within maxRSS (gdiag took 2.7 GB, or died out of memory, before
// profiles were read within bounds). The hostile pprof server is the
// test's own: no real service answers with a bomb.
func TestHostileProfiles(t *testing.T) {
	bombs := map[string][]byte{
		"one-member": hostile.GzipBomb(1 << 30),
		"members":    hostile.GzipMembers(8<<20, 16<<20),
	}
	dir := t.TempDir()
	for name, data := range bombs {
		file := filepath.Join(dir, name+".pb.gz")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/info" {
				http.NotFound(w, r)
				return
			}
			w.Write(data)
		}))
		defer srv.Close()
		for _, c := range []struct {
			how  string
			args []string
			code int
		}{
			{"file", []string{"analyze", file}, 5},
			{"url", []string{"profile", "heap", srv.URL, "--out", filepath.Join(dir, name+"-saved")}, 6},
		} {
			t.Run(name+" "+c.how, func(t *testing.T) {
				r, rss := gdiagRSS(t, c.args...)
				if r.Code != c.code || !strings.Contains(r.Stderr, "inflate to more than 128 MB") {
					t.Errorf("gdiag %s: want exit %d and the bound named\n%s", strings.Join(c.args, " "), c.code, r)
				}
				t.Logf("%s from a %s (%d KB): exit %d, max RSS at most %d MB", name, c.how, len(data)>>10, r.Code, rss>>20)
				if rss > maxRSS {
					t.Errorf("gdiag %s: max RSS %d MB; want under %d MB", strings.Join(c.args, " "), rss>>20, maxRSS>>20)
				}
			})
		}
	}
}

// gdiagRSS runs gdiag with args and returns its result and its peak RSS
// as the kernel's ru_maxrss gives it: an upper bound, for a child started
// by vfork and exec inherits the high-water mark of its parent's memory.
// The gdiag it runs is built without the race detector, whose shadow
// memory would multiply what is measured: the bound is the user's binary's.
func gdiagRSS(t *testing.T, args ...string) (result, int64) {
	t.Helper()
	bins, err := e2etest.BuildWith(e2etest.Plain, "./cmd/gdiag")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins[0], args...)
	cmd.Env = append(os.Environ(), "GDIAG_TOKEN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	if cmd.ProcessState == nil || ctx.Err() != nil {
		t.Fatalf("gdiag %s did not end within 2 minutes", strings.Join(args, " "))
	}
	r := result{Stdout: out.String(), Stderr: errb.String(), Code: cmd.ProcessState.ExitCode()}
	return r, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}
