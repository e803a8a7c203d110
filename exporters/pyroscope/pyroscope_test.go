package pyroscope_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	pyro "github.com/grafana/pyroscope-go"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/exporters/pyroscope"
	"github.com/gdiag/gdiag/pool"
)

// burn spins for d so that the CPU profiler catches the task.
func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x += i * i
		}
	}
	_ = x
}

// startBatchLoad runs CPU-bound tasks on a pool named "batch" until the
// returned function stops it.
func startBatchLoad(t *testing.T) (stop func()) {
	t.Helper()
	p := pool.New("batch", pool.WithMaxWorkers(2))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := p.Go(ctx, pool.Task{Label: "crunch", Fn: func(context.Context) error {
				burn(20 * time.Millisecond)
				return nil
			}})
			if err != nil && ctx.Err() == nil {
				t.Errorf("pool.Go: %v", err)
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := p.Stop(sctx); err != nil {
			t.Errorf("pool.Stop: %v", err)
		}
	}
}

func TestStartPushesPoolLabelOnCPUSamples(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	in := newIngest(t)
	stopLoad := startBatchLoad(t)
	defer stopLoad()

	stop, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "gdiag.test",
		ServerAddress:   in.srv.URL,
		Tags:            map[string]string{"env": "test"},
		UploadRate:      time.Second,
		ProfileTypes:    []pyro.ProfileType{pyro.ProfileCPU, pyro.ProfileGoroutines},
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	found := false
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline) && !found; {
		for _, p := range in.cpuProfiles() {
			if hasLabel(p, "pool", "batch") && hasLabel(p, "task", "crunch") {
				found = true
			}
		}
		if !found {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("stop() = %v; want nil", err)
	}
	if err := stop(); err != nil {
		t.Errorf("second stop() = %v; want nil", err)
	}
	if !found {
		t.Errorf("no uploaded CPU profile has a sample labelled pool=batch, task=crunch (%d CPU profiles)", len(in.cpuProfiles()))
	}
	if errs := in.decodeErrors(); len(errs) > 0 {
		t.Errorf("uploads that are not pprof: %v", errs)
	}
	// The application name and tags travel in the name parameter.
	for _, n := range in.uploadNames() {
		if !strings.HasPrefix(n, "gdiag.test") || !strings.Contains(n, "env=test") {
			t.Errorf("upload name = %q; want gdiag.test{...env=test...}", n)
		}
	}
}

func TestStartConfigErrors(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	_, err := pyroscope.Start(pyroscope.Config{ServerAddress: "http://127.0.0.1:1"})
	if !errors.Is(err, pyroscope.ErrNoApplicationName) {
		t.Errorf("Start(no ApplicationName) = %v; want ErrNoApplicationName", err)
	}
	_, err = pyroscope.Start(pyroscope.Config{
		ApplicationName: "gdiag.test", ServerAddress: "http://127.0.0.1:1",
		Tags: map[string]string{"bad tag{": "x"},
	})
	if err == nil {
		t.Errorf("Start(invalid tag) = nil error; want an error")
	}
}

func TestDefaultProfileTypes(t *testing.T) {
	got := pyroscope.DefaultProfileTypes()
	want := map[pyro.ProfileType]bool{
		pyro.ProfileCPU: true, pyro.ProfileAllocObjects: true, pyro.ProfileAllocSpace: true,
		pyro.ProfileInuseObjects: true, pyro.ProfileInuseSpace: true, pyro.ProfileGoroutines: true,
		pyro.ProfileMutexCount: true, pyro.ProfileMutexDuration: true,
		pyro.ProfileBlockCount: true, pyro.ProfileBlockDuration: true,
	}
	if len(got) != len(want) {
		t.Errorf("DefaultProfileTypes() = %v; want the %d types CPU, alloc, inuse, goroutines, mutex, block", got, len(want))
	}
	for _, pt := range got {
		if !want[pt] {
			t.Errorf("DefaultProfileTypes() has unexpected %q", pt)
		}
	}
	got[0] = "changed"
	if pyroscope.DefaultProfileTypes()[0] != pyro.ProfileCPU {
		t.Error("DefaultProfileTypes() returns a shared slice; want a new one per call")
	}
}
