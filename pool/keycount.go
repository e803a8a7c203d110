package pool

import (
	"sync"
	"sync/atomic"
)

// keyCounts counts the running tasks of each key for Stats.Keys in the
// lock-free core, where a task's start takes no lock: a lookup in a
// sync.Map (lock-free for a key already there) and an atomic add on the
// key's counter, which the task keeps for its end. Keys at zero stay (a
// busy key is not deleted and re-added for every task) until the map
// reaches its bound, when prune deletes them, so that its size stays
// bounded however many distinct keys pass through.
type keyCounts struct {
	m       sync.Map     // string → *keyCount
	n       atomic.Int64 // entries in m
	pruning sync.Mutex   // one prune at a time
}

// keyCount is one key's number of running tasks, or keyDead once prune
// has taken it out of the map.
type keyCount struct{ n atomic.Int64 }

// keyDead marks a pruned counter: a task that finds it looks the key up
// again. It is far below any count a release could bring a live counter
// to.
const keyDead = -1 << 62

// acquire counts one more running task of key and returns its counter,
// first pruning the map when it holds bound keys or more.
func (k *keyCounts) acquire(key string, bound int) *keyCount {
	for {
		v, ok := k.m.Load(key)
		if !ok {
			if k.n.Load() >= int64(bound) {
				k.prune()
			}
			var loaded bool
			if v, loaded = k.m.LoadOrStore(key, new(keyCount)); !loaded {
				k.n.Add(1)
			}
		}
		c := v.(*keyCount)
		for n := c.n.Load(); n >= 0; n = c.n.Load() {
			if c.n.CompareAndSwap(n, n+1) {
				return c
			}
		}
		// Pruned after we found it: it is gone, or about to be.
	}
}

// release counts the end of one of the key's tasks.
func (c *keyCount) release() { c.n.Add(-1) }

// prune deletes the keys with no running task. A counter is marked dead
// before its key is deleted, so that a task that found it just before
// looks the key up again rather than counting on a deleted counter.
func (k *keyCounts) prune() {
	if !k.pruning.TryLock() {
		return // another task is pruning
	}
	defer k.pruning.Unlock()
	k.m.Range(func(key, v any) bool {
		if v.(*keyCount).n.CompareAndSwap(0, keyDead) {
			k.m.Delete(key)
			k.n.Add(-1)
		}
		return true
	})
}

// busiest returns the keys with running tasks, at most MaxStatsKeys of
// them ordered as Stats.Keys documents, or nil when there are none.
func (k *keyCounts) busiest() []KeyStats {
	if k.n.Load() == 0 {
		return nil
	}
	t := top[KeyStats]{first: busier}
	k.m.Range(func(key, v any) bool {
		if n := v.(*keyCount).n.Load(); n > 0 {
			t.add(KeyStats{Key: key.(string), Running: int(n)})
		}
		return true
	})
	if t.n == 0 {
		return nil
	}
	return t.list()
}
