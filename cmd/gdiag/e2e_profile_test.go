package main_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// profileJSON is gdiag profile --json, as its help documents it.
type profileJSON struct {
	Profile string `json:"profile"`
	Target  string `json:"target"`
	Saved   string `json:"saved"`
	Delta   bool   `json:"delta"`
	WebURL  string `json:"webURL"`
	Top     struct {
		SampleType    string `json:"sampleType"`
		Unit          string `json:"unit"`
		Total         int64  `json:"total"`
		Samples       int    `json:"samples"`
		DurationNanos int64  `json:"durationNanos"`
		Omitted       int    `json:"omitted"`
		Functions     []struct {
			Function string  `json:"function"`
			Flat     int64   `json:"flat"`
			FlatPct  float64 `json:"flatPct"`
			SumPct   float64 `json:"sumPct"`
			Cum      int64   `json:"cum"`
			CumPct   float64 `json:"cumPct"`
		} `json:"functions"`
	} `json:"top"`
}

// pprofOnly is a running testdata/pprofonly service: net/http/pprof only.
type pprofOnly struct {
	URL string // http://127.0.0.1:PORT
}

// startPprofOnly builds (once) and starts the pprof-only service for one test.
func startPprofOnly(t *testing.T) pprofOnly {
	t.Helper()
	// Without -race: it stands for a service that is not gdiag's, and the
	// race detector's overhead would give its GC work to doctor's verdict.
	bins, err := e2etest.BuildWith(e2etest.Plain, "./cmd/gdiag/testdata/pprofonly")
	if err != nil {
		t.Fatal(err)
	}
	bin := bins[0]
	p := e2etest.StartT(t, "pprofonly", exec.Command(bin, "-listen", "127.0.0.1:0"))
	l, err := p.WaitLine(e2etest.Stdout, 30*time.Second, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	u, ok := strings.CutPrefix(l, "listening on ")
	if !ok {
		t.Fatalf("pprofonly printed %q; want listening on http://ADDR", l)
	}
	return pprofOnly{URL: u}
}

// checkSaved checks that the file gdiag saved is a profile pprof parses,
// with the sample type the table was made from.
func checkSaved(t *testing.T, path, sampleType string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("saved profile: %v", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("profile.Parse(%s) = %v", path, err)
	}
	for _, st := range p.SampleType {
		if st.Type == sampleType {
			return
		}
	}
	t.Errorf("profile.Parse(%s) sample types %v lack %s", path, p.SampleType, sampleType)
}

// TestProfileLive captures profiles from the demo's agent (socket, and TCP
// with a token) and from a plain net/http/pprof service.
func TestProfileLive(t *testing.T) {
	d := sharedDemo(t)
	po := startPprofOnly(t)
	cases := []struct {
		name, target string
		args         []string
		sampleType   string
		delta        bool
	}{
		{"agent socket cpu", d.Socket, []string{"cpu", "--duration", "1s"}, "cpu", false},
		{"agent tcp heap", d.TCP, []string{"heap", "--token", d.Token}, "inuse_space", false},
		{"agent tcp allocs delta", d.TCP, []string{"allocs", "--token", d.Token, "--duration", "500ms"}, "alloc_space", true},
		{"agent socket goroutine", d.Socket, []string{"goroutine"}, "goroutine", false},
		{"agent socket wall", d.Socket, []string{"wall", "--duration", "1s"}, "time", false},
		{"pprof cpu", po.URL, []string{"cpu", "--duration", "1s"}, "cpu", false},
		{"pprof heap", po.URL, []string{"heap"}, "inuse_space", false},
		{"pprof goroutine", po.URL, []string{"goroutine"}, "goroutine", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.pb.gz")
			args := append([]string{"profile", c.args[0], c.target, "--json", "--out", out, "--top", "5"}, c.args[1:]...)
			r := gdiag(t, d.Dir, args...)
			if r.Code != 0 {
				t.Fatalf("gdiag %s: %s", strings.Join(args, " "), r)
			}
			var res profileJSON
			decodeJSON(t, r, &res)
			if res.Saved != out || res.Profile != c.args[0] || res.Top.SampleType != c.sampleType || res.Delta != c.delta || c.delta && res.Top.DurationNanos != 5e8 {
				t.Errorf("gdiag %s = saved %q, profile %q, sample type %q, delta %v; want %q, %q, %q, %v",
					strings.Join(args, " "), res.Saved, res.Profile, res.Top.SampleType, res.Delta, out, c.args[0], c.sampleType, c.delta)
			}
			// A delta of allocations may be empty: the runtime publishes
			// them at each GC, and half a second may see none.
			if n := len(res.Top.Functions); n == 0 && !c.delta || n > 5 {
				t.Errorf("gdiag %s listed %d functions; want 1 to 5\n%s", strings.Join(args, " "), n, r)
			}
			checkSaved(t, out, c.sampleType)
		})
	}
	t.Run("text", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "g.pb.gz")
		r := gdiag(t, d.Dir, "profile", "goroutine", d.Socket, "--out", out)
		for _, want := range []string{"goroutine profile: goroutine", "flat  flat%", "runtime.gopark", "saved to " + out} {
			if r.Code != 0 || !strings.Contains(r.Stdout, want) {
				t.Errorf("gdiag profile goroutine: stdout lacks %q\n%s", want, r)
			}
		}
	})
	t.Run("pprof wall", func(t *testing.T) {
		r := gdiag(t, d.Dir, "profile", "wall", po.URL, "--out", filepath.Join(t.TempDir(), "w"))
		if r.Code != 3 || !strings.Contains(r.Stderr, "needs the gdiag agent") {
			t.Errorf("gdiag profile wall on pprof-only: want exit 3 saying it needs the agent\n%s", r)
		}
	})
}

// TestProfileCPUBusy runs two CPU profiles of the same process at once:
// the agent serves one and refuses the other, and gdiag passes its word on.
func TestProfileCPUBusy(t *testing.T) {
	d := sharedDemo(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() {
			results[i] = gdiag(t, d.Dir, "profile", "cpu", d.Socket, "--duration", "2s", "--out", filepath.Join(dir, string(rune('a'+i))))
		})
	}
	wg.Wait()
	ok, busy := 0, 0
	for _, r := range results {
		switch {
		case r.Code == 0:
			ok++
		case r.Code == 6 && strings.Contains(r.Stderr, "already running"):
			busy++
		default:
			t.Errorf("concurrent gdiag profile cpu: want exit 0 or 6 with \"already running\"\n%s", r)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("two concurrent CPU profiles: %d succeeded, %d refused; want 1 and 1\n%s\n%s", ok, busy, results[0], results[1])
	}
}

// TestProfileWeb serves pprof's web UI, fetches it, and interrupts gdiag,
// which must exit 0 and close the port.
func TestProfileWeb(t *testing.T) {
	d := sharedDemo(t)
	home := t.TempDir()
	cmd := exec.Command(gdiagBin, "profile", "heap", d.Socket, "--web", "--out", filepath.Join(home, "h.pb.gz"))
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+d.Dir, "HOME="+home, "BROWSER=false")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "pprof web UI: "); ok {
				urls <- strings.Fields(u)[0]
			}
		}
		done <- cmd.Wait()
	}()
	var u string
	select {
	case u = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatal("gdiag profile --web printed no URL in 30 s")
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html") {
		t.Errorf("GET %s = %d %s; want 200 and the HTML UI", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	tr.CloseIdleConnections()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Errorf("gdiag profile --web after SIGINT: %v; want exit 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("gdiag profile --web still running 15 s after SIGINT")
	}
	host := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/ui/")
	if c, err := net.DialTimeout("tcp", host, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after gdiag exited", host)
	}
	if left, _ := os.ReadDir(filepath.Join(home, "pprof")); len(left) > 0 {
		t.Errorf("gdiag profile --web left %v in $HOME/pprof; want nothing", left)
	}
}

func TestProfileUsage(t *testing.T) {
	cases := [][]string{
		{"profile", "nope", "1"},
		{"profile", "cpu"},
		{"profile", "goroutine", "1", "--duration", "1s"},
		{"profile", "cpu", "1", "--duration", "0s"},
		{"profile", "heap", "1", "--web", "--http", "0.0.0.0:0"},
	}
	for _, args := range cases {
		r := gdiag(t, t.TempDir(), args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "hint:") && !strings.Contains(r.Stderr, "gdiag profile") {
			t.Errorf("gdiag %s: want exit 2 with a message\n%s", strings.Join(args, " "), r)
		}
	}
}

// TestProfileTimeout checks that --timeout bounds the wait on top of the
// capture time for a target that never answers.
func TestProfileTimeout(t *testing.T) {
	hang := hangingListener(t)
	start := time.Now()
	r := gdiag(t, t.TempDir(), "profile", "cpu", hang, "--token", "x", "--duration", "1s", "--timeout", "1s", "--out", filepath.Join(t.TempDir(), "p"))
	if r.Code != 4 || !strings.Contains(r.Stderr, "--timeout") {
		t.Errorf("gdiag profile cpu on a hanging target: want exit 4 with a --timeout hint\n%s", r)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("gdiag profile cpu on a hanging target took %v; want about 2s", el)
	}
}
