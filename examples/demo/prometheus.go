package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	promexp "github.com/gdiag/gdiag/exporters/prometheus"
)

// mountMetrics serves the scheduler, pool and Go runtime metrics at
// /metrics from a registry of the demo's own.
func mountMetrics(mux *http.ServeMux, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	if err := promexp.Register(reg, promexp.Options{GoCollector: true, Logger: log}); err != nil {
		return fmt.Errorf("register prometheus collectors: %w", err)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	return nil
}
