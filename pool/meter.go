package pool

import (
	"math"
	"slices"
)

// meter collects what the tasks measure as they end, for the adaptive
// limit and shedding: a window per tick (every interval) for shedding, and
// a longer one for the adaptive limit, which needs enough run times to
// tell a trend from noise. It is guarded by overload.mu.
type meter struct {
	interval int64 // ns; 0 when nothing needs it
	start    int64 // the current tick's start
	started  bool  // start is set
	cur      waits // since the last tick
	acc      measured
	accStart int64 // when acc started
	need     int   // run times acc needs before it goes to the adaptive limit; 0 means adaptiveSamples
}

// waits is what one tick measured of queue waits, for shedding, per
// priority level: a worker takes higher priorities first, so each level
// has a queue (and a wait) of its own.
type waits struct {
	span  int64                // the tick's length, ns
	ended int                  // tasks that ran and ended
	n     [numPriorities]int   // tasks whose queue wait is known: those that started, and those canceled before they could
	min   [numPriorities]int64 // the shortest of those waits, ns
	max   [numPriorities]int64 // the longest, ns
}

// measured is what the tasks that ended since the adaptive limit last
// moved measured.
type measured struct {
	span  int64                  // how long they took to gather, ns
	n     int                    // tasks that ran and ended
	run   int64                  // their run times, summed, ns
	runs  [adaptiveSamples]int64 // the first run times, ns; math.MaxInt64 for one cut short by its context's end
	nruns int
}

// tick is what the meter hands over once per interval.
type tick struct {
	waits
	ready bool     // m is ready for the adaptive limit
	m     measured // valid when ready
}

// waited records the queue wait w of a task of priority level lv that
// started (or was found canceled) at now, and returns a tick once per
// interval. Waits are taken
// as tasks start, not as they end, so that shedding sees a queue build up
// without waiting for a run time.
func (m *meter) waited(lv int, w, now int64) (tick, bool) {
	w = max(w, 0)
	c := &m.cur
	if c.n[lv] == 0 || w < c.min[lv] {
		c.min[lv] = w
	}
	c.max[lv] = max(c.max[lv], w)
	c.n[lv]++
	return m.due(now)
}

// ran records the run of a task from start to end, cut short if cut, and
// returns a tick once per interval.
func (m *meter) ran(cut bool, start, end int64) (tick, bool) {
	d := max(end-start, 0)
	m.cur.ended++
	m.acc.n++
	m.acc.run += d
	if m.acc.nruns < len(m.acc.runs) {
		if cut {
			d = math.MaxInt64
		}
		m.acc.runs[m.acc.nruns] = d
		m.acc.nruns++
	}
	return m.due(end)
}

// due returns the tick when an interval has passed since the last one.
func (m *meter) due(now int64) (tick, bool) {
	if m.interval == 0 {
		return tick{}, false
	}
	if !m.started {
		m.start, m.accStart, m.started = now, now, true
	}
	if now-m.start < m.interval {
		return tick{}, false
	}
	t := tick{waits: m.cur}
	t.span = now - m.start
	m.cur, m.start = waits{}, now
	need := m.need
	if need == 0 {
		need = adaptiveSamples
	}
	if m.acc.nruns >= need || now-m.accStart >= 10*m.interval {
		t.ready, t.m = true, m.acc
		t.m.span = now - m.accStart
		m.acc, m.accStart = measured{}, now
	}
	return t, true
}

// tickInterval is the meter's interval: the shorter of the adaptive
// limit's and shedding's.
func (o *overload) tickInterval() int64 {
	var d int64
	if a := o.adaptive; a != nil {
		d = a.interval
	}
	if s := o.shed; s != nil && (d == 0 || s.interval < d) {
		d = s.interval
	}
	return d
}

// median returns the median run time, and false when there are too few
// run times to tell. A task whose run was cut short by its context's end
// (its deadline came while it ran) counts as longer than every other: its
// run time says how long it was allowed, not how long the work takes, so
// a mean would be biased low just when tasks are slow; the median stays
// exact while fewer than half are cut short.
func (m *measured) median() (float64, bool) {
	if m.nruns < 4 {
		return 0, false
	}
	r := m.runs[:m.nruns]
	slices.Sort(r)
	med := r[len(r)/2]
	if med == math.MaxInt64 {
		return 0, false // most were cut short: their run time is unknown
	}
	return float64(med), true
}
