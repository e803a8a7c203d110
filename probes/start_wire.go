package probes

import (
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// parts are what an agent runs besides its servers.
type parts struct {
	src  source
	stop func() error
}

// startParts starts the sampler and, when asked, the flight recorder.
func startParts(opts *Options) (*parts, error) {
	r := processReader()
	interval := opts.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var fr *FlightRecorder
	sopts := schedstats.SamplerOptions{Interval: interval, Size: opts.HistorySize, Thresholds: opts.Thresholds, Logger: opts.Logger}
	if opts.Flight != nil {
		var err error
		if fr, err = NewFlightRecorder(*opts.Flight); err == nil {
			err = fr.Start()
		}
		if err != nil {
			return nil, err
		}
		if opts.Flight.Dir != "" {
			sopts.OnFindings = newFlightTrigger(fr, opts.Logger).onFindings
		}
	}
	ov := newOSView()
	read := func(snap *schedstats.Snapshot) {
		r.Read(snap)
		ov.tick() // in the sampler's goroutine; a reading at most once a second
	}
	s := schedstats.NewSampler(read, sopts)
	src := commonSource(r)
	src.os = ov
	src.ops = true // the agent's listeners are owner-only or need the token
	samplerSource(&src, s, interval)
	if fr != nil {
		src.flight = fr.WriteTo
	}
	s.Start()
	return &parts{src: src, stop: func() error {
		s.Stop()
		if fr != nil {
			return fr.Stop()
		}
		return nil
	}}, nil
}

// handlerSource serves Handler: the given sampler, or else a fresh
// snapshot per request and no history.
func handlerSource(opts *HandlerOptions) source {
	r := processReader()
	src := commonSource(r)
	src.os = newOSView()
	if opts.Flight != nil {
		src.flight = opts.Flight.WriteTo
	}
	if opts.Sampler != nil {
		samplerSource(&src, opts.Sampler, 0)
		return src
	}
	src.latest = func() (schedstats.Snapshot, bool) {
		var s schedstats.Snapshot
		r.Read(&s)
		return s, true
	}
	return src
}

func commonSource(r *reader) source {
	return source{
		reader: r.Status,
		census: census,
		pools:  pools,
	}
}

func samplerSource(src *source, s *schedstats.Sampler, interval time.Duration) {
	src.latest = s.Latest
	src.history = s.History
	src.interval = interval
	src.findings = s.Findings
}

func pools() []apiv1.Pool {
	reg := pool.Registered()
	out := make([]apiv1.Pool, len(reg))
	for i, p := range reg {
		out[i] = p.Stats()
	}
	return out
}
