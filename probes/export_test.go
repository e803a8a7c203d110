package probes

// FactsGathered reports how many times the process has checked the runtime
// mirror (each check stops the world), for the external tests.
func FactsGathered() int64 { return factsGathered.Load() }
