// Command load sends a bounded HTTP load to a server on the loopback
// interface, so that scripts/crash-corpus dumps the goroutines of a busy
// server: -conns connections (each its own client) request the -urls in
// turn for -duration, then the program exits. It refuses any host but
// 127.0.0.1 and localhost.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	conns := flag.Int("conns", 32, "concurrent connections, at most 256")
	duration := flag.Duration("duration", 3*time.Second, "how long to send requests, at most 1m")
	urls := flag.String("urls", "", "comma-separated URLs on 127.0.0.1 or localhost")
	flag.Parse()
	if *conns < 1 || *conns > 256 || *duration <= 0 || *duration > time.Minute || *urls == "" {
		fmt.Fprintln(os.Stderr, "load: give -urls, -conns 1..256 and -duration up to 1m")
		os.Exit(2)
	}
	targets := strings.Split(*urls, ",")
	for _, t := range targets {
		u, err := url.Parse(t)
		if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			fmt.Fprintf(os.Stderr, "load: %s is not a loopback URL\n", t)
			os.Exit(2)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for n := i; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, targets[n%len(targets)], nil)
				resp, err := c.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("load: %d requests answered, %d failed\n", ok.Load(), failed.Load())
}
