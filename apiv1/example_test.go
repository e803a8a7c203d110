package apiv1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/probes"
)

// Find an agent by its PID, as gdiag does, and read it. Here the agent
// is this process's own, in a directory of the example's.
func ExampleNewClient() {
	dir, _ := os.MkdirTemp("", "gdiag-example")
	defer os.RemoveAll(dir)
	agent, err := probes.Start(probes.Options{Dir: filepath.Join(dir, "run")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer agent.Close()

	c, err := apiv1.NewClient(strconv.Itoa(os.Getpid()), apiv1.ClientOptions{Dir: filepath.Join(dir, "run"), Timeout: 10 * time.Second})
	if err != nil {
		fmt.Println(err) // errors.Is(err, apiv1.ErrNoAgent), ErrNoProcess, ErrUntrusted, ...
		return
	}
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.APIVersion, info.PID == os.Getpid())

	snap, err := c.Snapshot(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	p99 := snap.SchedLatency.Quantile(0.99) // the upper bound of the bucket that holds it
	fmt.Println(snap.GOMAXPROCS > 0, p99 >= 0)
	// Output:
	// v1 true
	// true true
}
