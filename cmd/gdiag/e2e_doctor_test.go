package main_test

// TestDoctorIncidents runs gdiag doctor on each program of
// examples/incidents and on real third-party servers, and checks that it
// names the right cause first, or nothing critical on healthy ones.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
	"github.com/gdiag/gdiag/procfs"
)

// doctorCase is one program doctor is run on and the verdict expected.
type doctorCase struct {
	name string
	// start starts the program(s) and returns the target; cleanups are
	// registered on t.
	start  func(t *testing.T) *doctorTarget
	warmUp time.Duration // time the fault needs to show before the window
	// cause is the cause doctor must rank first; "" means healthy: no
	// findings, or with warningsOK (real servers, load) none critical.
	cause      string
	warningsOK bool
	// check, when set, looks further into the report.
	check func(t *testing.T, rep doctorReport)
	// runNext runs every next: command of the report on the target.
	runNext bool
	// gdiagNice runs doctor at this niceness (root only).
	gdiagNice int
}

// doctorTarget is what doctor is pointed at.
type doctorTarget struct {
	spec   string // the TARGET argument
	dir    string // GDIAG_DIR, for agents
	pid    int
	stderr func() string
}

const (
	incidentWarmUp = 4 * time.Second // lets the fault build up before the window
	doctorWindow   = "15s"
	// staticAge is how long the static leak's goroutines must have been
	// parked before doctor looks: the dump reports waits in whole minutes.
	staticAge = 70 * time.Second
)

// TestDoctorIncidents runs each program in turn (they would compete for
// the CPU if run together), lets its fault build up, runs gdiag doctor
// --json on it, and checks the verdict. The two static-leak programs and
// the deadlock start first and are examined last, once their goroutines
// have been parked for over a minute. About 20 × 20 s.
//
// On a busy host every program's threads wait for a CPU and doctor rightly
// says so (cpu-starved). The test accepts cpu-starved findings ahead of the
// expected cause, or on a healthy program, only when its own reading of
// /proc over the same window shows the host at least 85% busy and other
// processes using at least a quarter of its CPUs: the verdict is checked
// against the machine, not excused.
func TestDoctorIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 20 programs for about 20 s each; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the threads incident, the cgroup and /proc cases need Linux")
	}
	bins := buildIncidents(t)
	static := map[string]*doctorTarget{}
	var staticStart time.Time
	for _, name := range []string{"staticleak", "staticleak-proven"} {
		p := startIncident(t, filepath.Join(bins, name), "staticleak")
		static[name] = p.target()
		staticStart = time.Now()
	}
	static["deadlock"] = startIncident(t, filepath.Join(bins, "deadlock"), "deadlock").target()
	agent := func(name string) func(t *testing.T) *doctorTarget {
		return func(t *testing.T) *doctorTarget {
			return startIncident(t, filepath.Join(bins, name), name, favoured()...).target()
		}
	}
	staticCase := func(name string) func(t *testing.T) *doctorTarget {
		return func(t *testing.T) *doctorTarget {
			time.Sleep(time.Until(staticStart.Add(staticAge))) // not an assertion: the dump's wait times count minutes
			return static[name]
		}
	}
	cases := []doctorCase{
		{name: "leak", start: agent("leak"), cause: "goroutine-leak", runNext: true},
		{name: "cpu", start: agent("cpu"), cause: "cpu-saturation"},
		{name: "mutex", start: agent("mutex"), cause: "mutex-contention"},
		{name: "gc", start: agent("gc"), cause: "gc-pressure"},
		{name: "threads", start: agent("threads"), cause: "thread-growth"},
		{name: "pool", start: agent("pool"), cause: "pool-overload"},
		{name: "stw", start: agent("stw"), cause: "stw-pauses"},
		{name: "preempt", start: agent("preempt"), cause: "preemption-delay", check: checkPreempt},
		{name: "healthy", start: agent("healthy"), check: checkHealthy},
		{name: "throttled", start: func(t *testing.T) *doctorTarget { return startThrottled(t, bins) },
			cause: "cpu-starved", check: checkThrottled},
		{name: "contended", start: func(t *testing.T) *doctorTarget { return startContended(t, bins) },
			cause: "cpu-starved", check: checkContended, gdiagNice: -10},
		{name: "conns", start: agent("conns"), check: checkConns, warningsOK: true, runNext: true},
		{name: "pprofgc", start: func(t *testing.T) *doctorTarget { return startPprofGC(t, bins) },
			cause: "gc-pressure", runNext: true},
		{name: "prometheus-gogc5", start: func(t *testing.T) *doctorTarget { return startPrometheus(t, true) },
			cause: "gc-pressure", check: checkPromQL, warmUp: 8 * time.Second},
		{name: "prometheus-idle", start: func(t *testing.T) *doctorTarget { return startPrometheus(t, false) }, warningsOK: true},
		{name: "node-exporter", start: startNodeExporter, warningsOK: true},
		{name: "staticleak", start: staticCase("staticleak"), cause: "goroutine-leak-static", warmUp: -1},
		{name: "staticleak-proven", start: staticCase("staticleak-proven"), cause: "goroutine-leak-proven", warmUp: -1, runNext: true},
		{name: "deadlock", start: staticCase("deadlock"), cause: "lock-stall", warmUp: -1, check: checkDeadlock, runNext: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.start(t)
			switch {
			case c.warmUp > 0:
				time.Sleep(c.warmUp) // not an assertion: the fault needs time to show
			case c.warmUp == 0:
				time.Sleep(incidentWarmUp)
			}
			host0 := readHost(t, p.pid)
			args := []string{"doctor", p.spec, "--window", doctorWindow, "--json", "--out-dir", t.TempDir()}
			r := gdiagNice(t, c.gdiagNice, p.dir, args...)
			others := othersCPU(host0, readHost(t, p.pid))
			var rep doctorReport
			decodeJSON(t, r, &rep)
			t.Logf("%s: exit %d, findings %s; %v", c.name, r.Code, causes(rep), others)
			checkReport(t, c, p, r, rep, others)
			if c.check != nil && !t.Failed() {
				c.check(t, rep)
			}
			if c.runNext && !t.Failed() {
				runNext(t, p, rep)
			}
		})
	}
}

// favoured is the command prefix that runs an incident program at nice
// -5 when the test runs as root (as CI does): the fault under test, not
// the other work on a shared test machine, should decide what the program
// gets. The contended case does the opposite on purpose.
func favoured() []string {
	if os.Geteuid() != 0 {
		return nil
	}
	return []string{"nice", "-n", "-5"}
}

// hostReading is the test's own reading of the host and the target.
type hostReading struct {
	s  procfs.Sample
	ok bool
}

func readHost(t *testing.T, pid int) hostReading {
	s, err := procfs.Read(pid)
	if err != nil {
		t.Logf("reading /proc for pid %d: %v", pid, err)
		return hostReading{}
	}
	return hostReading{s, true}
}

// hostLoad is what the test saw of the host over the doctor window.
type hostLoad struct {
	busy   float64 // share of the host's CPU time busy
	others float64 // cores used by processes other than the target
}

func (h hostLoad) String() string {
	return fmt.Sprintf("host %.0f%% busy, other processes %.2f cores", 100*h.busy, h.others)
}

// othersCPU is how busy the host was between the two readings, and how
// much of it other processes than the target used.
func othersCPU(a, b hostReading) hostLoad {
	if !a.ok || !b.ok {
		return hostLoad{}
	}
	r := procfs.Diff(a.s, b.s)
	return hostLoad{busy: r.HostBusy, others: max(r.HostBusy*float64(r.HostCPUs)-r.CPU, 0)}
}

// busyHost reports whether the host was as busy as doctor's starvation
// rule requires (75%) and other processes used at least a quarter of its
// CPUs: then a cpu-starved finding is what the machine shows.
func busyHost(h hostLoad) bool {
	return h.busy >= 0.75 && h.others >= 0.25*float64(runtime.NumCPU())
}

// checkReport checks doctor's verdict on one program.
func checkReport(t *testing.T, c doctorCase, p *doctorTarget, r result, rep doctorReport, others hostLoad) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Fatalf("doctor on %s: %s\n%s\nprogram stderr:\n%s", c.name, fmt.Sprintf(format, args...), r, p.stderr())
	}
	if rep.PID != p.pid {
		t.Errorf("doctor pid = %d; want %d", rep.PID, p.pid)
	}
	if d, err := time.ParseDuration(rep.Window); err != nil || d <= 0 {
		t.Errorf("doctor window = %q; want a positive Go duration", rep.Window)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("doctor errors = %q; want none on a live process", rep.Errors)
	}
	// A cpu-starved finding is accepted ahead of the rest only when this
	// test's own reading shows the host busy with other processes.
	fs := rep.Findings
	var starved *doctorFinding
	for len(fs) > 0 && fs[0].Cause == "cpu-starved" && c.cause != "cpu-starved" {
		if !busyHost(others) {
			fail("cpu-starved reported, but the test saw %v", others)
		}
		starved = &fs[0]
		fs = fs[1:]
	}
	// A process the host starves cannot show whether it would saturate
	// its CPUs if it had them: doctor must say so, and name the code the
	// CPU it got went to.
	if c.cause == "cpu-saturation" && starved != nil && (len(fs) == 0 || fs[0].Cause != c.cause) {
		if !slices.ContainsFunc(rep.NotChecked, func(n string) bool { return strings.Contains(n, "not its own saturation") }) ||
			len(starved.Functions) == 0 {
			fail("starved and not saturated, but without saying saturation could not be told, or without the hot functions")
		}
		t.Logf("the host starved the program (%v): doctor names cpu-starved, with %s hottest, and says saturation could not be told", others, starved.Functions[0].Name)
		return
	}
	if c.cause == "" {
		for _, f := range fs {
			if f.Cause == "cpu-starved" && busyHost(others) {
				continue
			}
			if !c.warningsOK || f.Severity == "critical" {
				fail("finding %s (%s); want none on a healthy program (real servers: none critical)", f.Cause, f.Severity)
			}
		}
		if r.Code != 0 && len(rep.Findings) == 0 || r.Code != 1 && len(rep.Findings) > 0 {
			fail("exit %d with %d findings; want 0 without, 1 with", r.Code, len(rep.Findings))
		}
		return
	}
	if r.Code != 1 || len(fs) == 0 || fs[0].Cause != c.cause {
		fail("exit %d, findings %s; want exit 1 with %s first", r.Code, causes(rep), c.cause)
	}
	f := fs[0]
	nonZero := 0
	for _, e := range f.Evidence {
		if e.Value != 0 {
			nonZero++
		}
	}
	if nonZero == 0 {
		t.Errorf("finding %s has no evidence figure other than 0: %+v", f.Cause, f.Evidence)
	}
	if f.Title == "" || f.Summary == "" || len(f.Next) == 0 {
		t.Errorf("finding %s has title %q, summary %q, next %q; want all three", f.Cause, f.Title, f.Summary, f.Next)
	}
}

// evidence returns a finding's named figure.
func evidence(f doctorFinding, name string) (float64, bool) {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value, true
		}
	}
	return 0, false
}

func finding(rep doctorReport, cause string) (doctorFinding, bool) {
	for _, f := range rep.Findings {
		if f.Cause == cause {
			return f, true
		}
	}
	return doctorFinding{}, false
}

// checkThrottled: the evidence names the quota, the throttled periods and
// CPU used against the quota.
func checkThrottled(t *testing.T, rep doctorReport) {
	f, _ := finding(rep, "cpu-starved")
	q, okQ := evidence(f, "cgroup_quota")
	th, okT := evidence(f, "throttled_periods")
	used, okU := evidence(f, "cpu_used")
	if !okQ || q != throttledQuota || !okT || th <= 0 || !okU || used > 2*throttledQuota {
		t.Errorf("cpu-starved evidence: quota %v, throttled periods %v, cpu used %v; want quota %v, throttling, at most %v cores used\n%+v",
			q, th, used, throttledQuota, 2*throttledQuota, f.Evidence)
	}
	if !strings.Contains(f.Title, "quota") {
		t.Errorf("title %q; want it to name the quota", f.Title)
	}
}

// checkContended: starvation by other processes, not the program's own
// saturation or pauses.
func checkContended(t *testing.T, rep doctorReport) {
	f := rep.Findings[0]
	if !strings.Contains(f.Title, "other processes") {
		t.Errorf("title %q; want it to name other processes", f.Title)
	}
	if _, ok := finding(rep, "cpu-saturation"); ok {
		t.Errorf("cpu-saturation reported for a program that gets a sliver of a CPU: %s", causes(rep))
	}
}

// checkHealthy: with the agent, every check is made; in particular the
// heap goal is held against the limit the runtime applies, which no
// environment variable has to name.
func checkHealthy(t *testing.T, rep doctorReport) {
	for _, n := range rep.NotChecked {
		if strings.Contains(n, "GOMEMLIMIT") {
			t.Errorf("not checked: %q; want the memory limit read from the agent", n)
		}
	}
}

// checkDeadlock: the lock stall is critical (the runtime credited no lock
// wait), and its stacks include the two deadlocked jobs.
func checkDeadlock(t *testing.T, rep doctorReport) {
	i := slices.IndexFunc(rep.Findings, func(f doctorFinding) bool { return f.Cause == "lock-stall" })
	f := rep.Findings[i]
	if f.Severity != "critical" {
		t.Errorf("lock-stall %s: %s; want critical", f.Severity, f.Summary)
	}
	for _, fn := range []string{"main.settle", "main.reconcile"} {
		if !slices.ContainsFunc(f.Stacks, func(s doctorStack) bool { return strings.Contains(strings.Join(s.Frames, " "), fn) }) {
			t.Errorf("lock-stall stacks %+v; want %s's", f.Stacks, fn)
		}
	}
}

// checkConns: connection growth is load, a warning at most, never a leak.
func checkConns(t *testing.T, rep doctorReport) {
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Cause, "goroutine-leak") {
			t.Errorf("growing connections reported as %s: %s", f.Cause, causes(rep))
		}
	}
	f, ok := finding(rep, "connection-growth")
	if !ok {
		t.Fatalf("findings %s; want connection-growth", causes(rep))
	}
	if g, ok := evidence(f, "tcp_accepted_growth"); !ok || g <= 0 || f.Severity != "warning" {
		t.Errorf("connection-growth: %s, accepted connections growth %v; want a warning with the connections rising", f.Severity, g)
	}
}

// checkPromQL: Prometheus's query engine is among the hot functions.
func checkPromQL(t *testing.T, rep doctorReport) {
	f, _ := finding(rep, "gc-pressure")
	for _, fn := range f.Functions {
		if strings.Contains(fn.Name, "/promql.") {
			return
		}
	}
	t.Errorf("gc-pressure functions %+v; want a promql function among them", f.Functions)
}

// runNext runs each next: command of the report, as a user would paste it,
// and checks that it works on this target (exit 0, or 1 for a command that
// reports findings).
func runNext(t *testing.T, p *doctorTarget, rep doctorReport) {
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		for _, c := range f.Next {
			if seen[c] {
				continue
			}
			seen[c] = true
			cmd := exec.Command("sh", "-c", c)
			cmd.Dir = t.TempDir() // profiles are saved in the working directory
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(gdiagBin)+string(os.PathListSeparator)+os.Getenv("PATH"), "GDIAG_DIR="+p.dir, "GDIAG_TOKEN=")
			// gdiag sched without --once is a live view: still running
			// after a while means it works.
			live := strings.HasPrefix(c, "gdiag sched ") && !strings.Contains(c, "--once")
			limit := 90 * time.Second
			if live {
				limit = 10 * time.Second
			}
			out, err := runWithin(cmd, limit)
			if live && cmd.ProcessState != nil && !cmd.ProcessState.Exited() {
				continue // killed by the limit while showing the view
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Errorf("next %q: %v", c, err)
				continue
			}
			switch code {
			case 0, 1: // 1: the command reports findings
			case 4:
				// Timed out: the command suits the target, which was too
				// slow to answer (a starved or leaking process on a busy
				// machine); 2 (usage) and 3 (refused) are what this test is for.
				t.Logf("next %q timed out (exit 4):\n%s", c, out)
			default:
				t.Errorf("next %q exited %d; want 0 (or 1 with findings)\n%s", c, code, out)
			}
		}
	}
}

// runWithin runs cmd, in a process group of its own, killing the group
// after d.
func runWithin(cmd *exec.Cmd, d time.Duration) (string, error) {
	var b syncText
	cmd.Stdout, cmd.Stderr = &b, &b
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(d, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	err := cmd.Wait()
	return b.String(), err
}

// gdiagNice runs gdiag at a niceness (0: as is), through nice(1).
func gdiagNice(t *testing.T, nice int, dir string, args ...string) result {
	t.Helper()
	if nice == 0 {
		return gdiag(t, dir, args...)
	}
	cmd := exec.Command("nice", append([]string{"-n", strconv.Itoa(nice), gdiagBin}, args...)...)
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+dir, "GDIAG_TOKEN=")
	var out, errb syncText
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nice gdiag %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// causes lists a report's causes in rank order, for messages.
func causes(rep doctorReport) string {
	var cs []string
	for _, f := range rep.Findings {
		cs = append(cs, fmt.Sprintf("%s(%s %.1f)", f.Cause, f.Severity, f.Score))
	}
	return "[" + strings.Join(cs, " ") + "]"
}

// incidentPrograms are the examples/incidents programs the test builds.
var incidentPrograms = []string{"leak", "cpu", "mutex", "gc", "threads", "pool", "stw", "preempt", "healthy",
	"throttled", "contended", "conns", "pprofgc", "staticleak", "deadlock", "internal/hog"}

// buildIncidents builds every incident program into one directory,
// without the race detector (the test judges them by their timing), and
// staticleak a second time with the goroutineleak profile
// (staticleak-proven).
func buildIncidents(t *testing.T) string {
	t.Helper()
	pkgs := make([]string, len(incidentPrograms))
	for i, p := range incidentPrograms {
		pkgs[i] = "./examples/incidents/" + p
	}
	built, err := e2etest.BuildWith(e2etest.Plain, pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(built[0])
	// go test puts its own GOROOT/bin first on PATH: "go" is the toolchain
	// that built the test.
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "staticleak-proven"), "./examples/incidents/staticleak")
	cmd.Dir = e2etest.RepoRoot(t)
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=goroutineleakprofile")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build staticleak with GOEXPERIMENT=goroutineleakprofile: %v\n%s", err, out)
	}
	return dir
}

// incident is a running incident program.
type incident struct {
	cmd    *exec.Cmd
	pid    int
	dir    string // the agent's directory: pass as GDIAG_DIR
	stderr *syncText
	done   chan struct{} // closed when the process has been waited for
	first  string        // its first stdout line
}

func (p *incident) target() *doctorTarget {
	return &doctorTarget{spec: strconv.Itoa(p.pid), dir: p.dir, pid: p.pid, stderr: p.stderr.String}
}

// startIncident starts an incident program with a private agent
// directory, waits for its ready line, and stops it (SIGTERM, then
// SIGKILL of its process group) at the end of the test.
func startIncident(t *testing.T, bin, name string, prefix ...string) *incident {
	t.Helper()
	dir, err := os.MkdirTemp("", "gd") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	// -duration bounds the program even if the test binary is killed.
	argv := append(append([]string{}, prefix...), bin, "-agent-dir", dir, "-duration", "15m")
	if name == "pprofgc" {
		argv = append(append([]string{}, prefix...), bin, "-duration", "15m")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &incident{cmd: cmd, dir: dir, stderr: new(syncText), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		for sc.Scan() { // drain, so that the program never blocks on stdout
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	want := fmt.Sprintf("incident: %s pid %d ready", name, p.pid)
	select {
	case l := <-first:
		if !strings.HasPrefix(l, want) {
			t.Fatalf("%s printed %q; want %q", name, l, want)
		}
		p.first = l
	case <-p.done:
		t.Fatalf("%s exited before its ready line: %v\nstderr:\n%s", name, cmd.ProcessState, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s printed no ready line in 30 s; stderr:\n%s", name, p.stderr.String())
	}
	return p
}

// stop ends the program and checks that it exited cleanly.
func (p *incident) stop(t *testing.T) {
	defer os.RemoveAll(p.dir)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("incident program exited with %v after SIGTERM; want status 0\nstderr:\n%s",
				p.cmd.ProcessState, p.stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("incident program did not exit within 15 s of SIGTERM")
	}
}

// syncText collects a process's output; it is safe for the process's
// writes and the test's reads.
type syncText struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncText) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncText) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
