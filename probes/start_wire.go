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
	s := schedstats.NewSampler(r.Read, sopts)
	src := commonSource(r)
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
		st := p.Stats()
		out[i] = apiv1.Pool{
			Name: st.Name, MinWorkers: st.MinWorkers, MaxWorkers: st.MaxWorkers, Workers: st.Workers,
			Running: st.Running, Idle: st.Idle, Queued: st.Queued, Parked: st.Parked, QueueCapacity: st.QueueCapacity,
			KeyLimit: st.KeyLimit, Stopped: st.Stopped,
			Submitted: st.Submitted, Completed: st.Completed, Failed: st.Failed, Panicked: st.Panicked,
			Canceled: st.Canceled, Rejected: st.Rejected, HookPanics: st.HookPanics,
			QueueWait: poolHistogram(st.QueueWait), RunTime: poolHistogram(st.RunTime),
			Keys: poolKeys(st.Keys),

			Refused: apiv1.Refusals(st.Refused), Limit: st.Limit, Adaptive: st.Adaptive,
			Rate: apiv1.Rate(st.Rate), KeyRate: apiv1.Rate(st.KeyRate), ShedTarget: st.ShedTarget,
			Shedding: st.Shedding, BreakerOpens: st.BreakerOpens, Breakers: poolBreakers(st.Breakers),
		}
	}
	return out
}

// poolBreakers converts the breakers; nil stays nil, so that the JSON
// leaves "breakers" out.
func poolBreakers(bs []pool.BreakerStats) []apiv1.Breaker {
	if len(bs) == 0 {
		return nil
	}
	out := make([]apiv1.Breaker, len(bs))
	for i, b := range bs {
		out[i] = apiv1.Breaker{Key: b.Key, State: b.State.String(), Opened: b.Opened, Requests: b.Requests, Failures: b.Failures}
	}
	return out
}

// poolKeys converts the busiest keys; nil stays nil, so that the JSON
// leaves "keys" out.
func poolKeys(ks []pool.KeyStats) []apiv1.PoolKey {
	if len(ks) == 0 {
		return nil
	}
	out := make([]apiv1.PoolKey, len(ks))
	for i, k := range ks {
		out[i] = apiv1.PoolKey(k)
	}
	return out
}

func poolHistogram(h pool.Histogram) apiv1.Histogram {
	return apiv1.Histogram{Bounds: h.Bounds, Counts: h.Counts, Count: h.Count, Sum: h.Sum}
}
