package pools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pools"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
)

// TestKeyLimitHoldsWorkBack runs a real pool with a key limit of 2 and 8
// workers, with 10 tasks of one key waiting: 2 run, 8 are held back while
// 6 workers could run them. gdiag pools, reading the real agent handler,
// must show them as parked, not queued, and say that the key limit, not
// the worker count, holds the work back.
func TestKeyLimitHoldsWorkBack(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("keyed", pool.WithMaxWorkers(8), pool.WithKeyLimit(2), pool.WithQueueSize(64))
	release := make(chan struct{})
	ctx := context.Background()
	for range 10 {
		if err := p.Go(ctx, pool.Task{Key: "tenant-a", Fn: func(context.Context) error { <-release; return nil }}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		close(release)
		p.Stop(ctx)
	}()
	for deadline := time.Now().Add(time.Minute); p.Stats().Running < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not start 2 tasks within a minute: %+v", p.Stats())
		}
	}
	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{}))
	defer srv.Close()

	var out, errb bytes.Buffer
	code := cli.Main(ctx, []string{"pools", srv.URL, "--interval", "0"}, &out, &errb, []cli.Command{pools.Command()})
	want := `keyed: 8 tasks held back by the key limit (2 running per key at most) while 6 of 8 workers could run them: the key limit, not the worker count, holds work back; key "tenant-a" has 2 running and 8 held back`
	if code != 0 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "0/8/64") {
		t.Errorf("gdiag pools: exit %d\n%s%s\nwant a row with QUEUED/PARKED/CAP 0/8/64 and %q", code, out.String(), errb.String(), want)
	}

	out.Reset()
	code = cli.Main(ctx, []string{"pools", srv.URL, "--interval", "0", "--json"}, &out, &errb, []cli.Command{pools.Command()})
	var rep pools.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || code != 0 {
		t.Fatalf("gdiag pools --json: exit %d, %v\n%s", code, err, out.String())
	}
	for _, r := range rep.Pools {
		if r.Name == "keyed" && (r.Parked != 8 || r.Queued != 0 || !r.KeyLimited || r.KeyLimit != 2 || len(r.Keys) != 1) {
			t.Errorf("pool keyed = %+v; want 8 parked, none queued, key-limited by 2, one key", r)
		}
	}
}
