package prometheus_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

func Example() {
	ctx := context.Background()
	p := pool.New("example", pool.WithoutRegistry())
	for range 3 {
		_ = p.Submit(ctx, func(context.Context) error { return nil })
	}
	_ = p.Stop(ctx) // waits for the three tasks

	reg := prometheus.NewRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Pools: func() []*pool.Pool { return []*pool.Pool{p} },
		// A fixed reader keeps the output stable; leave Read nil to read
		// the running process through probes.
		Read: func(s *schedstats.Snapshot) {
			s.GOMAXPROCS = 4
			s.Sources.Procs = schedstats.SourceRuntimeMetrics
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "gdiag_sched_gomaxprocs ") || strings.HasPrefix(line, "gdiag_pool_tasks_total{") {
			fmt.Println(line)
		}
	}
	// Output:
	// gdiag_pool_tasks_total{outcome="canceled",pool="example"} 0
	// gdiag_pool_tasks_total{outcome="completed",pool="example"} 3
	// gdiag_pool_tasks_total{outcome="failed",pool="example"} 0
	// gdiag_pool_tasks_total{outcome="panicked",pool="example"} 0
	// gdiag_sched_gomaxprocs 4
}
