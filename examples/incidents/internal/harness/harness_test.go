package harness

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestParseFlags(t *testing.T) {
	cases := []struct {
		args    []string
		want    config
		wantErr bool
	}{
		{nil, config{rps: DefaultRPS}, false},
		{[]string{"-agent-dir", "/tmp/x", "-duration", "2s", "-load", "0"}, config{"/tmp/x", 2 * time.Second, 0}, false},
		{[]string{"-load", "-1"}, config{}, true},
		{[]string{"-duration", "-1s"}, config{}, true},
		{[]string{"extra"}, config{}, true},
		{[]string{"-nope"}, config{}, true},
	}
	for _, c := range cases {
		got, err := parseFlags("t", c.args, io.Discard)
		if (err != nil) != c.wantErr {
			t.Errorf("parseFlags(%q) error = %v; want error %v", c.args, err, c.wantErr)
			continue
		}
		if err == nil && got != c.want {
			t.Errorf("parseFlags(%q) = %+v; want %+v", c.args, got, c.want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	err := Run(context.Background(), Program{Name: "t"}, []string{"-load", "x"}, io.Discard, io.Discard)
	if !errors.As(err, new(usageError)) {
		t.Errorf("Run(-load x) = %v; want a usage error", err)
	}
	err = Run(context.Background(), Program{Name: "t"}, []string{"-h"}, io.Discard, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Run(-h) = %v; want flag.ErrHelp", err)
	}
}

// TestRun runs a program in-process: the ready line comes once the fault
// is set up and the load runs; at the end of -duration the fault's
// goroutines and the agent are stopped and nothing is left running.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir, err := os.MkdirTemp("", "gdh") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var handled atomic.Int64
	var faultStopped atomic.Bool
	p := Program{
		Name: "test",
		Handle: func(ctx context.Context, seq uint64) error {
			handled.Add(1)
			return Work(ctx)
		},
		Start: func(ctx context.Context, wg *sync.WaitGroup) error {
			wg.Go(func() { <-ctx.Done(); faultStopped.Store(true) })
			return nil
		},
	}
	var stdout, stderr bytes.Buffer
	err = Run(context.Background(), p, []string{"-agent-dir", dir, "-duration", "500ms", "-load", "100"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run = %v; stderr:\n%s", err, stderr.String())
	}
	if want := fmt.Sprintf("incident: test pid %d ready\n", os.Getpid()); stdout.String() != want {
		t.Errorf("stdout = %q; want %q", stdout.String(), want)
	}
	if n := handled.Load(); n < 10 {
		t.Errorf("requests handled in 500ms at 100/s = %d; want at least 10", n)
	}
	if !faultStopped.Load() {
		t.Error("the fault's goroutine was not stopped before Run returned")
	}
	if !strings.Contains(stderr.String(), "stopping: context deadline exceeded") {
		t.Errorf("stderr = %q; want the stopping line with its cause", stderr.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("agent dir after Run holds %d entries; want the socket and discovery file removed", len(ents))
	}
}

func TestRunStartError(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir, err := os.MkdirTemp("", "gdh")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	boom := errors.New("boom")
	p := Program{Name: "t", Start: func(context.Context, *sync.WaitGroup) error { return boom }}
	var stdout bytes.Buffer
	err = Run(context.Background(), p, []string{"-agent-dir", dir}, &stdout, io.Discard)
	if !errors.Is(err, boom) {
		t.Errorf("Run with a failing Start = %v; want %v", err, boom)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q; want no ready line", stdout.String())
	}
}

func TestWork(t *testing.T) {
	calibrate()
	if n := workRounds.Load(); n <= 0 {
		t.Fatalf("workRounds after calibrate = %d; want > 0", n)
	}
	if err := Work(context.Background()); err != nil {
		t.Errorf("Work = %v; want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Work(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Work(canceled) = %v; want context.Canceled", err)
	}
}

// BenchmarkWork reports what one request of the load costs.
func BenchmarkWork(b *testing.B) {
	calibrate()
	ctx := context.Background()
	for b.Loop() {
		_ = Work(ctx)
	}
}
