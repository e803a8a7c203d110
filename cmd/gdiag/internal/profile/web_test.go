package profile

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestServe serves the web UI for a profile, fetches it, and checks that
// cancelling the context stops the server and leaves no goroutine behind.
func TestServe(t *testing.T) {
	defer goleak.VerifyNone(t)
	// pprof saves a copy of a profile it takes for remote under $HOME/pprof
	// (or $PPROF_TMPDIR); Serve must not make it.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("PPROF_TMPDIR", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, synthetic(), "synthetic.pb.gz", "delay", io.Discard) }()
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	for _, path := range []string{"/", "/ui/", "/ui/top"} {
		resp, err := client.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "main.inlined") && path == "/ui/top" {
			t.Errorf("GET %s = %d %s %.200s; want 200, HTML with the profile's functions", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	tr.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v; want nil", err)
	}
	if left, _ := os.ReadDir(home); len(left) != 0 {
		t.Errorf("Serve left %v in $HOME; want nothing", left)
	}
}

func TestCheckOptions(t *testing.T) {
	cases := []struct {
		args []string
		o    options
		set  bool
		ok   bool
		want string // duration after check, when ok
	}{
		{[]string{"cpu", "1"}, options{top: 15}, false, true, "5s"},
		{[]string{"wall", "1"}, options{top: 15}, false, true, "5s"},
		{[]string{"cpu", "1"}, options{duration: 0, top: 15}, true, false, ""},
		{[]string{"heap", "1"}, options{top: 15}, false, true, "0s"},
		{[]string{"allocs", "1"}, options{duration: 1e9, top: 15}, true, true, "1s"},
		{[]string{"goroutine", "1"}, options{duration: 1e9}, true, false, ""},
		{[]string{"heap", "1"}, options{duration: -1}, true, false, ""},
		{[]string{"nope", "1"}, options{}, false, false, ""},
		{[]string{"cpu"}, options{}, false, false, ""},
		{[]string{"heap", "1"}, options{top: -1}, false, false, ""},
		{[]string{"heap", "1"}, options{web: true, http: "0.0.0.0:8080"}, false, false, ""},
		{[]string{"heap", "1"}, options{web: true, http: "localhost:0"}, false, true, "0s"},
		{[]string{"heap", "1"}, options{web: true, http: "[::1]:0"}, false, true, "0s"},
	}
	for _, c := range cases {
		o := c.o
		err := o.check(c.args, c.set)
		if (err == nil) != c.ok || c.ok && o.duration.String() != c.want {
			t.Errorf("check(%v, %+v) = %v, duration %v; want ok %v, duration %s", c.args, c.o, err, o.duration, c.ok, c.want)
		}
	}
}
