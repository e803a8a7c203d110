package pool

// StatsInto sets *s to the snapshot Stats would return, reusing the memory
// s already holds: the Bounds and Counts of its two histograms, which make
// up most of what a snapshot allocates. A caller that reads a pool often
// (an exporter at every scrape) keeps one Stats per pool and passes it at
// each read; reading then allocates nothing, except for Keys while tasks
// with keys run or are parked and for Breakers under WithBreaker, which are
// new slices at each read, as in Stats.
//
// Every field of *s is overwritten, and the histograms' slices are written
// in place: a copy of *s made earlier shares them and sees the new counts.
// Use Stats for a snapshot to keep. The two histograms of *s must not share
// their Counts (Stats never makes such a value). StatsInto panics if s is
// nil. It is safe to call concurrently with every other method of the pool,
// but not on the same *s from two goroutines at once.
func (p *Pool) StatsInto(s *Stats) {
	qw, rt := s.QueueWait, s.RunTime
	o := p.ov.Load()
	p.mu.Lock()
	*s = Stats{
		Name:          p.name,
		MinWorkers:    p.minW,
		MaxWorkers:    p.ceilW,
		Limit:         p.maxW,
		Workers:       p.workers,
		Running:       p.running,
		Idle:          len(p.idle),
		Queued:        p.waiting(),
		Parked:        p.queued - p.ready,
		QueueCapacity: p.cfg.queueSize,
		KeyLimit:      p.cfg.keyLimit,
		Stopped:       p.stopped,
		Submitted:     p.submitted,
		Keys:          p.busiestKeys(),
	}
	if o != nil {
		o.statsLocked(s)
	}
	p.mu.Unlock()
	if o != nil {
		o.stats(s)
	}
	s.Refused = p.refusals()
	s.Rejected = s.Refused.Sum()
	s.HookPanics = p.hookPanics.Load()
	s.QueueWait = reuseHistogram(qw, nil)
	s.RunTime = reuseHistogram(rt, s.QueueWait.Counts)
	for i := range p.shards {
		sh := &p.shards[i]
		s.Completed += sh.completed.Load()
		s.Failed += sh.failed.Load()
		s.Panicked += sh.panicked.Load()
		s.Canceled += sh.canceled.Load()
		sh.queueWait.addTo(&s.QueueWait)
		sh.runTime.addTo(&s.RunTime)
	}
}

// reuseHistogram returns an empty histogram with the standard layout, in
// h's slices when they have room, and in new ones when they do not or when
// h's Counts start where taken does (a value whose two histograms share
// their counts).
func reuseHistogram(h Histogram, taken []uint64) Histogram {
	if cap(h.Bounds) < numBounds || cap(h.Counts) < numBounds+1 ||
		cap(taken) > 0 && &h.Counts[:1][0] == &taken[:1][0] {
		return newHistogram()
	}
	counts := h.Counts[:numBounds+1]
	clear(counts)
	return Histogram{Bounds: append(h.Bounds[:0], bucketBounds[:]...), Counts: counts}
}
