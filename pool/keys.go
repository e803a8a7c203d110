package pool

// MaxStatsKeys is the most keys Stats.Keys lists. Only the busiest keys are
// kept, so that a snapshot's size (and the series an exporter may make of
// it) stays bounded however many keys the tasks carry.
const MaxStatsKeys = 10

// KeyStats is one task key's share of a pool at the moment of a Stats call.
// The zero value is a key with nothing running or parked. A task is parked
// when it is submitted while its key already has as many tasks running or
// ready as WithKeyLimit allows.
type KeyStats struct {
	Key     string `json:"key"`     // the Task.Key; never empty
	Running int    `json:"running"` // tasks with this key running now
	Parked  int    `json:"parked"`  // tasks with this key a worker set aside at the key limit (always 0 without WithKeyLimit)
}

// busier reports whether a sorts before b in Stats.Keys: more running
// tasks first, then by key.
func busier(a, b KeyStats) bool {
	return a.Running > b.Running || a.Running == b.Running && a.Key < b.Key
}

// top keeps the MaxStatsKeys first of the values offered to add, in the
// order first defines, without allocating: an insertion into a short
// sorted array.
type top[T any] struct {
	vs    [MaxStatsKeys]T
	n     int
	first func(a, b T) bool // a sorts before b
}

func (t *top[T]) add(v T) {
	if t.n == len(t.vs) {
		if !t.first(v, t.vs[t.n-1]) {
			return
		}
		t.n-- // the last one drops out
	}
	i := t.n
	for ; i > 0 && t.first(v, t.vs[i-1]); i-- {
		t.vs[i] = t.vs[i-1]
	}
	t.vs[i] = v
	t.n++
}

// list returns the values kept, in order, in a new slice.
func (t *top[T]) list() []T { return append([]T(nil), t.vs[:t.n]...) }

// busiestKeys returns the keys with tasks running or parked, at most
// MaxStatsKeys of them ordered as Stats.Keys documents, or nil when there
// are none. It visits every such key once: p.inflight holds the keys of
// running tasks (and recent keys at 0), p.parked those with tasks held back
// by the key limit (which may have none running for a moment, between a
// release and the next take). p.mu held.
func (p *Pool) busiestKeys() []KeyStats {
	if len(p.inflight) == 0 && len(p.parked) == 0 {
		return nil
	}
	t := top[KeyStats]{first: busier}
	for k, run := range p.inflight {
		if *run == 0 {
			continue
		}
		ks := KeyStats{Key: k, Running: *run}
		if len(p.parked) > 0 { // only under a key limit
			if d := p.parked[k]; d != nil {
				ks.Parked = d.len()
			}
		}
		t.add(ks)
	}
	for k, d := range p.parked {
		if p.runningKey(k) == 0 {
			t.add(KeyStats{Key: k, Parked: d.len()})
		}
	}
	return t.list()
}
