package probes

import (
	"log/slog"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// flightCooldown is the shortest time between two automatic flight-recorder
// snapshots for the same kind of finding: a condition that lasts minutes
// would otherwise fill the directory with near-identical traces.
const flightCooldown = time.Minute

// flightTrigger writes a flight-recorder snapshot when the sampler's
// detectors find something. It runs on the sampler's goroutine only, so
// it needs no lock.
type flightTrigger struct {
	fr     *FlightRecorder
	logger *slog.Logger
	last   map[string]time.Time
	now    func() time.Time
}

func newFlightTrigger(fr *FlightRecorder, logger *slog.Logger) *flightTrigger {
	return &flightTrigger{fr: fr, logger: logger, last: make(map[string]time.Time), now: time.Now}
}

func (t *flightTrigger) onFindings(fs []schedstats.Finding) {
	now := t.now()
	for _, f := range fs {
		if last, ok := t.last[f.Cause]; ok && now.Sub(last) < flightCooldown {
			continue
		}
		t.last[f.Cause] = now
		path, err := t.fr.Snapshot(f.Cause)
		if t.logger == nil {
			continue
		}
		if err != nil {
			t.logger.Warn("flight recorder snapshot failed", "finding", f.Cause, "err", err)
			continue
		}
		t.logger.Info("flight recorder snapshot written", "finding", f.Cause, "path", path)
	}
}
