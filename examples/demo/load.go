package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// maxInFlight bounds the load generator's concurrent requests: when the
// service is slower than the offered load, ticks are skipped rather than
// piling up goroutines.
const maxInFlight = 64

// runLoad sends rps requests a second to baseURL/work, cycling through the
// tenants (t1 twice as often as the others), until ctx ends; it then waits
// for the requests in flight.
func runLoad(ctx context.Context, baseURL string, rps int) {
	if rps <= 0 {
		return
	}
	client := &http.Client{Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second / time.Duration(rps))
	defer tick.Stop()
	mix := append([]string{"t1"}, tenants...)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // saturated: skip this tick
		}
		url := fmt.Sprintf("%s/work?tenant=%s&n=%d", baseURL, mix[i%len(mix)], 1+i%8)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			get(ctx, client, url)
		}()
	}
}

func get(ctx context.Context, client *http.Client, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		return // errors (503 while overloaded, shutdown) are part of the show
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// batchLabels name the background jobs; they become task=<label> profiler
// labels and span names.
var batchLabels = []string{"reindex", "compact", "report"}

// batchUpload is how long a background job waits for an imaginary
// downstream to take its result. Longer than the 100 ms between jobs, so
// that one job overlaps the next, the batch pool always has a keyed task
// running at a scrape, and the pools dashboard's "Busiest keys" panel has
// tenants to show even when the short /work tasks fall between scrapes.
// Two workers still finish the jobs faster than they come.
const batchUpload = 120 * time.Millisecond

// runBatch submits background jobs to the batch pool every 100 ms until ctx
// ends: each works for one tenant (its task key), with a few milliseconds
// of CPU and then batchUpload of waiting.
func runBatch(ctx context.Context, p *pool.Pool) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		label := batchLabels[i%len(batchLabels)]
		rounds := 20_000 * (1 + i%3) // a few ms: enough CPU samples to split profiles by pool
		tenant := tenants[i%len(tenants)]
		_ = p.Go(ctx, pool.Task{Label: label, Key: tenant, Priority: pool.Low, Fn: func(ctx context.Context) error {
			h := [32]byte{byte(i)}
			for j := range rounds {
				if j%500 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				h = sha256.Sum256(h[:])
			}
			select {
			case <-time.After(batchUpload):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	}
}
