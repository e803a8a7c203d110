package pool

import "sync"

// The registry is the one piece of process-wide state: diagnostics (the
// probes endpoint) discover pools through it. WithoutRegistry opts out.
var (
	registryMu sync.Mutex
	registry   []*Pool
)

func register(p *Pool) {
	registryMu.Lock()
	registry = append(registry, p)
	registryMu.Unlock()
}

func unregister(p *Pool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for i, q := range registry {
		if q == p {
			registry = append(registry[:i], registry[i+1:]...)
			return
		}
	}
}

// Registered returns every pool created by New without WithoutRegistry and
// not yet stopped, in creation order. The slice is a fresh copy.
func Registered() []*Pool {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append([]*Pool(nil), registry...)
}
