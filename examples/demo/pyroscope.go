package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gdiag/gdiag/exporters/pyroscope"
	"github.com/gdiag/gdiag/probes"
)

// startPyroscope starts continuous profiling to url. It also returns the CPU
// profile to serve on the probes endpoint instead of the standard one, which
// could not run while the continuous profiler holds the CPU profiler.
func startPyroscope(url string, log *slog.Logger) (stop func() error, cpu probes.ProfileFunc, err error) {
	stop, err = pyroscope.Start(pyroscope.Config{
		ApplicationName: "gdiag-demo",
		ServerAddress:   url,
		UploadRate:      2 * time.Second,
		Logger:          log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start pyroscope: %w", err)
	}
	return stop, pyroscope.CPUProfile(), nil
}
