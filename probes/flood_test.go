package probes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

const floodEnv = "GDIAG_TEST_FLOOD_TARGET"

// floodFDs is the child's file descriptor limit: a common container
// default, far below the flood, so that an agent without a cap on
// connections runs the whole process out of descriptors.
const floodFDs = 1024

// TestFloodTargetHelper is the target of TestConnectionFlood: a service
// with its own HTTP server and the agent (socket and token TCP), under a
// limit of floodFDs descriptors. It prints its addresses, then serves
// until its stdin closes.
func TestFloodTargetHelper(t *testing.T) {
	if os.Getenv(floodEnv) == "" {
		return // not the child
	}
	lim := syscall.Rlimit{Cur: floodFDs, Max: floodFDs}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(4)
	}
	svc, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "service ok") })}
	go srv.Serve(svc)
	a, err := Start(Options{Dir: os.Getenv(floodEnv), TCPAddr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	fmt.Printf("READY svc=%s tcp=%s sock=%s\n", svc.Addr(), a.Addr(), a.SocketPath())
	io.Copy(io.Discard, os.Stdin)
	a.Close()
	srv.Close()
	os.Exit(0)
}

// TestConnectionFlood holds 5,000 connections to the agent's token TCP
// listener without ever sending a token, as anyone on the host can, and
// checks that the service's own HTTP server and the agent's socket still
// answer. An agent that accepted them all would use every descriptor the
// process has ("accept4: too many open files") and take the service down.
func TestConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5,000 connections")
	}
	const flood = 5000
	dir := shortTempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodTargetHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), floodEnv+"="+dir+"/rt")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var svcAddr, tcpAddr, sock string
	if _, serr := fmt.Sscanf(line, "READY svc=%s tcp=%s sock=%s", &svcAddr, &tcpAddr, &sock); err != nil || serr != nil {
		t.Fatalf("target said %q, %v", line, err)
	}

	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for len(held) < flood {
		c, err := net.DialTimeout("tcp", tcpAddr, 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", len(held), err)
		}
		held = append(held, c)
	}

	// An agent without a cap frees descriptors only as its read-header
	// timeout (10 s) closes the flood's connections; answers within 5 s
	// show that the descriptors were never spent. A loopback request
	// takes milliseconds, even on a busy host.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The service's own server answers.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+svcAddr+"/", nil)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	svcTook := time.Since(start)
	if err != nil {
		t.Fatalf("with %d connections held to the agent, the service's own server: %v", flood, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "service ok" {
		t.Errorf("service answered %q", b)
	}
	// So does the agent's socket.
	c, closeIdle := unixClient(sock)
	defer closeIdle()
	c.Timeout = 5 * time.Second
	var info struct{ PID int }
	start = time.Now()
	code := getJSON(t, c, "http://gdiag/v1/info", "", &info)
	sockTook := time.Since(start)
	if code != http.StatusOK || info.PID != cmd.Process.Pid {
		t.Errorf("with %d connections held, GET /v1/info over the socket = %d, pid %d", flood, code, info.PID)
	}
	// The target holds at most the cap's worth of the flood: count its
	// descriptors (the service and agent need a few dozen of their own).
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d connections held to the agent: the service answered in %v, the socket in %v, the target holds %d descriptors",
		flood, svcTook.Round(time.Millisecond), sockTook.Round(time.Millisecond), len(fds))
	if len(fds) > maxConns+64 {
		t.Errorf("the target holds %d descriptors with %d connections flooding the agent; want at most %d (the cap) plus its own", len(fds), flood, maxConns)
	}
}
