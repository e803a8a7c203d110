package cputime_test

import (
	"crypto/sha256"
	"testing"

	"github.com/gdiag/gdiag/internal/cputime"
)

func TestProcessGrows(t *testing.T) {
	before := cputime.Process()
	if before <= 0 {
		t.Fatalf("Process() = %v; want the CPU time used so far", before)
	}
	h := [32]byte{}
	for range 1000 { // burn CPU until the clock moves: well under a second
		if cputime.Process() > before {
			return
		}
		for range 10_000 {
			h = sha256.Sum256(h[:])
		}
	}
	t.Errorf("Process() stayed at %v through 10 million hashes", before)
}
