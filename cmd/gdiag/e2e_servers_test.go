package main_test

// Real third-party Go servers from Debian's packages (prometheus,
// prometheus-node-exporter, etcd-server; scripts/install-debian-servers),
// none of which runs the gdiag agent, started on loopback with temporary
// data directories: what gdiag does with the services users really have.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// needTool fails a test that lacks what it needs under GDIAG_E2E=1 (CI,
// where scripts/setup has installed everything), and skips it otherwise.
func needTool(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		e2etest.Unavailable(t, format, args...)
	}
}

// debianServer is a running third-party server.
type debianServer struct {
	*e2etest.Proc
	Name string // the executable's name
	PID  int
	URL  string // http://127.0.0.1:PORT, where it serves /debug/pprof/
	Addr string // 127.0.0.1:PORT
}

// loopbackPort returns a loopback port nothing listens on now.
func loopbackPort(t *testing.T) int { return e2etest.FreePort(t) }

// startDebian starts /usr/bin/NAME with args, waits until ready (a path
// below its URL) answers 200, and stops it when the test ends.
func startDebian(t *testing.T, name string, port int, ready string, args ...string) *debianServer {
	t.Helper()
	path := "/usr/bin/" + name
	_, err := os.Stat(path)
	needTool(t, err == nil, "%s is not installed (scripts/setup installs it)", path)
	s := &debianServer{Name: name, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.URL = "http://" + s.Addr
	s.Proc = e2etest.StartT(t, name, exec.Command(path, args...))
	s.PID = s.Proc.PID()
	e2etest.WaitHTTP(t, s.Proc, s.URL+ready, 90*time.Second)
	return s
}

func startPrometheusServer(t *testing.T, dir string) *debianServer {
	port := loopbackPort(t)
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n", port)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return startDebian(t, "prometheus", port, "/-/ready", "--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"))
}

func startNodeExporterServer(t *testing.T) *debianServer {
	port := loopbackPort(t)
	return startDebian(t, "prometheus-node-exporter", port, "/metrics", "--web.listen-address=127.0.0.1:"+strconv.Itoa(port))
}

// startEtcdServer runs etcd 3.4 with --enable-pprof: its /debug/pprof/
// handlers answer, all but /debug/pprof/trace.
func startEtcdServer(t *testing.T, dir string) *debianServer {
	client, peer := loopbackPort(t), loopbackPort(t)
	c, p := "http://127.0.0.1:"+strconv.Itoa(client), "http://127.0.0.1:"+strconv.Itoa(peer)
	return startDebian(t, "etcd", client, "/health", "--data-dir", filepath.Join(dir, "etcd"), "--enable-pprof",
		"--listen-client-urls", c, "--advertise-client-urls", c, "--listen-peer-urls", p,
		"--initial-advertise-peer-urls", p, "--initial-cluster", "default="+p)
}

// loadServer sends GET path to s every 20 ms until ctx ends, so that its
// profiles have samples.
func loadServer(ctx context.Context, wg *sync.WaitGroup, s *debianServer, path string) {
	wg.Go(func() {
		client := &http.Client{Timeout: 5 * time.Second}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})
}

// TestServersWithoutAgent runs gdiag against Debian's prometheus,
// node exporter and etcd 3.4, which serve net/http/pprof and no agent.
func TestServersWithoutAgent(t *testing.T) {
	dir := t.TempDir()
	prom := startPrometheusServer(t, dir)
	node := startNodeExporterServer(t)
	etcd := startEtcdServer(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	loadServer(ctx, &wg, prom, "/api/v1/query?query=up")
	loadServer(ctx, &wg, node, "/metrics")
	out := t.TempDir()

	// What was shown is what was saved: a delta of allocs is shown as
	// alloc_space, and the saved file must open on alloc_space too (it
	// opened on inuse_space, a different figure).
	t.Run("allocs delta saved as shown", func(t *testing.T) {
		file := filepath.Join(out, "allocs.pb.gz")
		r := gdiag(t, "", "profile", "allocs", prom.URL, "--duration", "3s", "--out", file, "--json")
		if r.Code != 0 {
			t.Fatalf("gdiag profile allocs: %s", r)
		}
		var res profileJSON
		decodeJSON(t, r, &res)
		p := readSaved(t, file)
		i := sampleIndex(p, "alloc_space")
		if res.Top.SampleType != "alloc_space" || !res.Delta || p.DefaultSampleType != "alloc_space" || i < 0 || total(p, i) != res.Top.Total {
			t.Errorf("profile allocs --duration 3s: shown %s (delta %v, total %d); saved file defaults to %q with alloc_space total %d; want alloc_space, a delta, and the same in the file",
				res.Top.SampleType, res.Delta, res.Top.Total, p.DefaultSampleType, total(p, i))
		}
	})

	// The mutex and block profiles are off unless the program switches
	// them on: gdiag must say so rather than blame a quiet program.
	t.Run("mutex off", func(t *testing.T) {
		r := gdiag(t, "", "profile", "mutex", prom.URL, "--out", filepath.Join(out, "m.pb.gz"))
		for _, want := range []string{"no samples", "why: mutex profiling is off in the target (sampling period=0)", "runtime.SetMutexProfileFraction", "--enable-rate"} {
			if r.Code != 0 || !bytes.Contains([]byte(r.Stdout), []byte(want)) {
				t.Errorf("gdiag profile mutex on prometheus: want exit 0 and %q\n%s", want, r)
			}
		}
	})
	t.Run("block off", func(t *testing.T) {
		r := gdiag(t, "", "profile", "block", node.URL, "--duration", "1s", "--json", "--out", filepath.Join(out, "b.pb.gz"))
		var res profileJSON
		decodeJSON(t, r, &res)
		if r.Code != 0 || res.Empty == nil || !bytes.Contains([]byte(res.Empty.Reason), []byte("block profiling is off")) || !bytes.Contains([]byte(res.Empty.Hint), []byte("runtime.SetBlockProfileRate")) {
			t.Errorf("gdiag profile block on node exporter: want exit 0 and why it is empty\n%s", r)
		}
	})

	// etcd 3.4 registers every net/http/pprof handler but trace.
	t.Run("etcd trace missing", func(t *testing.T) {
		r := gdiag(t, "", "trace", etcd.URL, "--duration", "1s", "--out", filepath.Join(out, "t.out"))
		if r.Code != 6 || !bytes.Contains([]byte(r.Stderr), []byte("registers net/http/pprof's other handlers but not /debug/pprof/trace")) ||
			bytes.Contains([]byte(r.Stderr), []byte("is net/http/pprof registered")) {
			t.Errorf("gdiag trace on etcd: want exit 6 saying only the trace handler is missing\n%s", r)
		}
		if r := gdiag(t, "", "profile", "heap", etcd.URL, "--out", filepath.Join(out, "h.pb.gz")); r.Code != 0 {
			t.Errorf("gdiag profile heap on etcd: %s", r)
		}
	})

	// A trace of Go 1.19 gives no reason for the waits under way when it
	// begins: goroutine dumps taken with it name them. Without them, 72
	// to 94% of the waiting time read "unknown".
	t.Run("trace names early waits", func(t *testing.T) {
		r := gdiag(t, "", "trace", prom.URL, "--duration", "2s", "--json", "--out", filepath.Join(out, "p.trace"))
		var res traceJSON
		decodeJSON(t, r, &res)
		var all, unknown int64
		for _, w := range res.Waits {
			all += w.TotalNanos
			if w.Category == "unknown (waiting since the trace began)" {
				unknown += w.TotalNanos
			}
		}
		b := res.BeforeTrace
		if r.Code != 0 || all == 0 || float64(unknown) > 0.1*float64(all) || b.FromDump == 0 || b.FromDump+b.Runtime+b.Unknown+b.FromStack != b.Waits {
			t.Errorf("gdiag trace on prometheus: unknown %.1f%% of the waiting time, beforeTrace %+v; want under 10%%, named from the dumps\n%s", 100*float64(unknown)/float64(max(all, 1)), b, r)
		}
	})

	// The target's own words survive: net/http/pprof's "cpu profiling
	// already in use" while another CPU profile runs.
	t.Run("cpu busy", func(t *testing.T) {
		// Two CPU profiles at once: net/http/pprof serves one and refuses
		// the other with 500 "cpu profiling already in use".
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i := range results {
			wg.Go(func() {
				results[i] = gdiag(t, "", "profile", "cpu", node.URL, "--duration", "3s", "--out", filepath.Join(out, "c"+strconv.Itoa(i)))
			})
		}
		wg.Wait()
		refused := 0
		for _, r := range results {
			if r.Code == 6 && bytes.Contains([]byte(r.Stderr), []byte("cpu profiling already in use")) {
				refused++
			} else if r.Code != 0 {
				t.Errorf("gdiag profile cpu: want exit 0, or 6 with the target's message\n%s", r)
			}
		}
		if refused != 1 {
			t.Errorf("two CPU profiles at once: %d refused with the target's words; want 1\n%s\n%s", refused, results[0], results[1])
		}
	})

	// What needs the agent says so, with exit 3 (no agent), and what to
	// do without it; never "unreachable", never "use the http:// URL".
	t.Run("agent only", func(t *testing.T) {
		for _, args := range [][]string{
			{"sched", prom.URL, "--once"},
			{"pools", prom.URL},
			{"profile", "wall", prom.URL, "--out", filepath.Join(out, "w")},
			{"trace", prom.URL, "--flight", "--out", filepath.Join(out, "f")},
		} {
			r := gdiag(t, "", args...)
			if r.Code != 3 || !bytes.Contains([]byte(r.Stderr), []byte("needs the gdiag agent, which "+prom.URL+" does not run")) ||
				!bytes.Contains([]byte(r.Stderr), []byte("probes.Start")) || bytes.Contains([]byte(r.Stderr), []byte("point gdiag at its net/http/pprof URL")) {
				t.Errorf("gdiag %v on prometheus: want exit 3 saying what the target lacks and what to do\n%s", args, r)
			}
		}
	})

	// HOST:PORT without a scheme or token is tried as net/http/pprof.
	t.Run("host port", func(t *testing.T) {
		file := filepath.Join(out, "hp.pb.gz")
		r := gdiag(t, "", "profile", "heap", prom.Addr, "--out", file)
		if r.Code != 0 {
			t.Fatalf("gdiag profile heap %s: want the pprof service read\n%s", prom.Addr, r)
		}
		readSaved(t, file)
		if r := gdiag(t, "", "profile", "heap", "127.0.0.1:"+strconv.Itoa(loopbackPort(t))); r.Code != 7 {
			t.Errorf("gdiag profile heap on a closed port: want exit 7 (unreachable)\n%s", r)
		}
	})
}

// readSaved parses a profile gdiag saved.
func readSaved(t *testing.T, path string) *profile.Profile {
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
	return p
}

// sampleIndex is the index of the sample type named st in p, or -1.
func sampleIndex(p *profile.Profile, st string) int {
	for i, s := range p.SampleType {
		if s.Type == st {
			return i
		}
	}
	return -1
}

// total sums sample value i over p.
func total(p *profile.Profile, i int) int64 {
	var n int64
	for _, s := range p.Sample {
		if i >= 0 && i < len(s.Value) {
			n += s.Value[i]
		}
	}
	return n
}

// TestPSServers lists real servers as gops would and more: the full
// program name (the kernel cuts prometheus-node-exporter to
// "prometheus-node"), the main package of a build outside module mode
// (Debian's), a module's version, CPU, memory, threads, age, listening
// ports and the pprof URL of each; never gdiag itself; and the tree.
func TestPSServers(t *testing.T) {
	dir := t.TempDir()
	prom := startPrometheusServer(t, dir)
	node := startNodeExporterServer(t)
	etcd := startEtcdServer(t, dir)
	stamped := startStamped(t)

	r := gdiag(t, t.TempDir(), "ps", "--json")
	if r.Code != 0 {
		t.Fatalf("gdiag ps --json: %s", r)
	}
	var rows []psRow
	decodeJSON(t, r, &rows)
	byPID := map[int]psRow{}
	for _, row := range rows {
		byPID[row.PID] = row
		if row.Exe == gdiagBin {
			t.Errorf("gdiag ps lists itself: %+v", row)
		}
	}
	for _, c := range []struct {
		s         *debianServer
		name, pkg string
	}{
		{prom, "prometheus", "github.com/prometheus/prometheus/cmd/prometheus"},
		{node, "prometheus-node-exporter", "github.com/prometheus/node_exporter"},
		{etcd, "etcd", "go.etcd.io/etcd"},
	} {
		row, ok := byPID[c.s.PID]
		switch {
		case !ok:
			t.Errorf("gdiag ps has no row for %s (pid %d)", c.name, c.s.PID)
		case row.Name != c.name || row.Package != c.pkg || row.Module != "" || row.GoVersion != "go1.19.8":
			t.Errorf("gdiag ps row for %s = name %q, package %q, module %q, %s; want %q, %q, no module, go1.19.8", c.name, row.Name, row.Package, row.Module, row.GoVersion, c.name, c.pkg)
		case row.PprofURL != c.s.URL || !contains(row.Listen, c.s.Addr):
			t.Errorf("gdiag ps row for %s = pprof %q, listen %v; want %s and %s", c.name, row.PprofURL, row.Listen, c.s.URL, c.s.Addr)
		case row.RSSBytes < 1<<20 || row.Threads < 2 || row.AgeSeconds <= 0 || row.PPID != os.Getpid() || row.CPUSeconds <= 0:
			t.Errorf("gdiag ps row for %s = rss %d, threads %d, age %.1fs, ppid %d, cpu %.2fs; want a live server started by this test (pid %d)",
				c.name, row.RSSBytes, row.Threads, row.AgeSeconds, row.PPID, row.CPUSeconds, os.Getpid())
		}
	}
	if row := byPID[stamped]; row.Module != "example.com/stamped/v2" || row.Version != "v2.15.2" {
		t.Errorf("gdiag ps row for a binary built from tag v2.15.2 = module %q version %q; want example.com/stamped/v2 v2.15.2", row.Module, row.Version)
	}

	text := gdiag(t, t.TempDir(), "ps")
	for _, want := range []string{"prometheus-node-exporter", "github.com/prometheus/node_exporter", "pprof " + node.URL, "example.com/stamped/v2@v2.15.2"} {
		if !bytes.Contains([]byte(text.Stdout), []byte(want)) {
			t.Errorf("gdiag ps lacks %q\n%s", want, text)
		}
	}

	// In the tree, the servers hang under this test's process (a Go
	// program), which hangs under its own parent.
	tree := gdiag(t, t.TempDir(), "ps", "--tree")
	self := fmt.Sprintf("%d %s", os.Getpid(), filepath.Base(os.Args[0]))
	var under bool
	for _, l := range bytes.Split([]byte(tree.Stdout), []byte("\n")) {
		if bytes.Contains(l, []byte(self)) {
			under = true
			continue
		}
		if under && bytes.Contains(l, []byte(fmt.Sprintf("── %d prometheus-node-exporter", node.PID))) {
			return
		}
	}
	t.Errorf("gdiag ps --tree does not show node exporter (pid %d) under %q\n%s", node.PID, self, tree)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// startStamped builds a program in a git checkout tagged v2.15.2 (the
// go command stamps the tag as the main module's version, as go install
// module@version does) and runs it until the test ends.
func startStamped(t *testing.T) int {
	t.Helper()
	_, err := exec.LookPath("git")
	needTool(t, err == nil, "git is not installed")
	src := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/stamped/v2\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"time\"\n\nfunc main() { time.Sleep(time.Hour) }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "-A"},
		{"-c", "user.email=test@example.com", "-c", "user.name=test", "commit", "-qm", "stamped"},
		{"tag", "v2.15.2"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = src
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
	}
	bin := filepath.Join(t.TempDir(), "stamped")
	cmd := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	run := exec.Command(bin)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	return run.Process.Pid
}
