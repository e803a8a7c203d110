package target_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/sched"
)

const (
	plantEnv  = "GDIAG_TEST_PLANT_BASE" // set in the planting child: the shared base directory
	fakeMark  = "main.PlantedFakeDump"  // in the planted agent's answers only
	rootToken = "root-secret-token"
)

// TestPlantHelper is the other user's half of TestPlantedDiscoveryIgnored:
// run as uid 65534, it pre-creates the victim's default discovery
// directory in the shared base, listens on a socket there as a fake agent
// that logs every connection and Authorization header and serves a fake
// dump, and writes a discovery file for its own pid naming that socket.
func TestPlantHelper(t *testing.T) {
	base := os.Getenv(plantEnv)
	if base == "" {
		return // not the child
	}
	dir := filepath.Join(base, "gdiag-0") // root's default: $TMPDIR/gdiag-<uid>
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o777)
	logf, err := os.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d := apiv1.Discovery{PID: os.Getpid(), Socket: sock, APIVersion: apiv1.Version, GoVersion: "go1.26", Started: time.Now()}
	b, _ := json.Marshal(d)
	if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())+".json"), b, 0o666); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				fmt.Fprintln(logf, "CONNECTION")
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(logf, "REQUEST %s AUTH=%q\n", r.URL.Path, r.Header.Get("Authorization"))
			if r.URL.Path == "/v1/info" {
				json.NewEncoder(w).Encode(apiv1.Info{PID: os.Getpid(), APIVersion: apiv1.Version})
				return
			}
			fmt.Fprintf(w, "goroutine 1 [running]:\n%s()\n\t/fake/main.go:1 +0x1\n", fakeMark)
		}),
	}
	fmt.Println("READY", os.Getpid())
	srv.Serve(l) // until the parent kills this process
}

// TestPlantedDiscoveryIgnored reproduces the planted-directory attack:
// another user (uid 65534) pre-creates the default discovery directory of
// root ($TMPDIR/gdiag-0 without XDG_RUNTIME_DIR), plants a discovery file
// naming its own socket, and root runs gdiag on that pid, and on the
// socket itself, with a token. gdiag must refuse both (exit 8), print
// none of the fake agent's answers, and never send the token: the fake
// agent sees no connection at all through the planted file, and no
// request through the socket, whose peer check fails before anything is
// written.
func TestPlantedDiscoveryIgnored(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("GDIAG_E2E") == "1" {
			t.Fatal("running a process as another uid needs root; CI runs this test as root")
		}
		t.Skip("running a process as another uid needs root")
	}
	base, err := os.MkdirTemp("", "gdplant")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o1777) // a shared temporary directory, like /tmp
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "plant.test") // the build directory is closed to other users
	src, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPlantHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), plantEnv+"="+base, "GOCOVERDIR=")
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(time.Minute):
		t.Fatal("the planting child did not start within a minute")
	}
	pid := strings.TrimSpace(strings.TrimPrefix(line, "READY"))
	if pid != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("planting child said %q; want READY %d", line, cmd.Process.Pid)
	}
	dir := filepath.Join(base, "gdiag-0")
	sock := filepath.Join(dir, "agent.sock")

	t.Setenv("TMPDIR", base)
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("GDIAG_DIR", "")
	t.Setenv("GDIAG_TOKEN", "")
	cmds := []cli.Command{goroutines.Command(), sched.Command()}
	for _, args := range [][]string{
		{"goroutines", pid, "--token", rootToken},
		{"sched", pid, "--once", "--token", rootToken},
		{"goroutines", sock, "--token", rootToken},
		{"sched", sock, "--once", "--token", rootToken},
	} {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		code := cli.Main(ctx, args, &stdout, &stderr, cmds)
		cancel()
		if code != cli.ExitRefused || !strings.Contains(stderr.String(), "not trusted") {
			t.Errorf("gdiag %s: exit %d, stderr %q; want exit %d and the endpoint not trusted", strings.Join(args, " "), code, stderr.String(), cli.ExitRefused)
		}
		if strings.Contains(stdout.String()+stderr.String(), fakeMark) {
			t.Errorf("gdiag %s printed the planted agent's answer:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if bytes.Contains(log, []byte(rootToken)) || bytes.Contains(log, []byte("REQUEST")) {
		t.Errorf("the planted agent received requests:\n%s", log)
	}
	// Only the two runs given the socket itself may have connected.
	if n := bytes.Count(log, []byte("CONNECTION")); n > 2 {
		t.Errorf("the planted agent saw %d connections; want none through the discovery file:\n%s", n, log)
	}
}
