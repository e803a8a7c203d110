//go:build goexperiment.staticlockranking

package probes

// lockRankPad is the runtime's lockRankStruct under the staticlockranking
// experiment: a lockRank (int) padded to a multiple of 8 bytes.
type lockRankPad struct {
	rank int
	pad  int
}
