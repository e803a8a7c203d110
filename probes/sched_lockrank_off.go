//go:build !goexperiment.staticlockranking

package probes

// lockRankPad is the runtime's lockRankStruct, empty without the
// staticlockranking experiment.
type lockRankPad struct{}
