package schedstats

import (
	"log/slog"
	"sync"
	"time"
)

// ReadFunc fills a Snapshot in place. It should reuse the snapshot's slices
// so that reading allocates nothing, and may leave Time zero (the Sampler
// then stamps it). The probes package supplies the runtime's reader.
type ReadFunc func(*Snapshot)

// SamplerOptions configures a Sampler. The zero value is the default.
type SamplerOptions struct {
	Interval time.Duration // time between samples; default 1s
	Size     int           // snapshots kept; default 300 (five minutes at 1s)
	// Thresholds configure the detectors run by Findings and OnFindings.
	Thresholds Thresholds
	// OnFindings, when set, is called from the sampling goroutine after
	// each background sample whose history yields findings. Detection
	// allocates, so the sampler only runs it when OnFindings is set. The
	// call must not block for long: the next sample waits for it.
	OnFindings func([]Finding)
	// Logger receives debug records about the sampler's life; nil is silent.
	Logger *slog.Logger
}

// Sampler calls a ReadFunc at a fixed interval and keeps the most recent
// snapshots in a ring. All methods are safe for concurrent use. Once its ring
// is warm, taking a sample allocates nothing beyond what ReadFunc does.
type Sampler struct {
	read ReadFunc
	opts SamplerOptions

	readMu  sync.Mutex // serialises read into scratch
	scratch Snapshot

	mu   sync.Mutex
	ring []Snapshot // len == opts.Size; slots reused
	next int        // slot the next sample goes into
	n    int        // samples held, ≤ len(ring)
	view []Snapshot // reused by Findings

	state int // 0 new, 1 running, 2 stopped; guarded by mu
	stop  chan struct{}
	done  chan struct{}
}

// NewSampler returns a Sampler that reads with read. It panics if read is nil.
func NewSampler(read ReadFunc, opts SamplerOptions) *Sampler {
	if read == nil {
		panic("schedstats: NewSampler with nil ReadFunc")
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Size <= 0 {
		opts.Size = 300
	}
	return &Sampler{read: read, opts: opts, ring: make([]Snapshot, opts.Size)}
}

// Start takes a first sample and then one every Interval on a goroutine of
// its own, until Stop. Calling Start again, or after Stop, does nothing.
func (s *Sampler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != 0 {
		return
	}
	s.state = 1
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.loop(s.stop, s.done)
	s.log("sampler started", "interval", s.opts.Interval, "size", s.opts.Size)
}

// Stop stops the sampling goroutine and waits for it to exit. It is safe to
// call more than once, and before Start (the Sampler then never starts).
func (s *Sampler) Stop() {
	s.mu.Lock()
	state, stop, done := s.state, s.stop, s.done
	s.state = 2
	s.mu.Unlock()
	if state != 1 {
		return
	}
	close(stop)
	<-done
	s.log("sampler stopped")
}

func (s *Sampler) log(msg string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Debug("schedstats: "+msg, args...)
	}
}

func (s *Sampler) loop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		s.SampleNow()
		if s.opts.OnFindings != nil {
			if f := s.Findings(); len(f) > 0 {
				s.opts.OnFindings(f)
			}
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// SampleNow takes one sample synchronously and adds it to the history.
func (s *Sampler) SampleNow() {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	// The read runs outside mu so that a slow reader does not block
	// Latest and History; readMu keeps scratch to one reader at a time.
	s.read(&s.scratch)
	if s.scratch.Time.IsZero() {
		s.scratch.Time = time.Now()
	}
	s.mu.Lock()
	s.scratch.CopyInto(&s.ring[s.next])
	s.next = (s.next + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
	s.mu.Unlock()
	s.scratch.Time = time.Time{}
}

// at returns the i-th held sample, oldest first; mu must be held.
func (s *Sampler) at(i int) *Snapshot {
	return &s.ring[(s.next-s.n+i+len(s.ring))%len(s.ring)]
}

// Latest returns a copy of the most recent sample, or false if there is none.
func (s *Sampler) Latest() (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return Snapshot{}, false
	}
	return s.at(s.n - 1).Clone(), true
}

// History returns copies of the held samples, oldest first.
func (s *Sampler) History() []Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Snapshot, s.n)
	for i := range out {
		out[i] = s.at(i).Clone()
	}
	return out
}

// Findings runs Detect over the held history with the sampler's Thresholds.
func (s *Sampler) Findings() []Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Detect only reads, so under mu it can work on shallow copies that
	// share the ring's slices instead of a deep copy of the whole history.
	s.view = s.view[:0]
	for i := range s.n {
		s.view = append(s.view, *s.at(i))
	}
	f := Detect(s.view, s.opts.Thresholds)
	clear(s.view) // drop the references to the ring's slices
	return f
}
