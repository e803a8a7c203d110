//go:build !(gdiag_deep && go1.26 && !go1.27)

package probes

// deepReader is empty without the gdiag_deep build tag (or on a Go
// version deep mode does not mirror).
type deepReader struct{}

// newDeepReader returns nil: deep mode is not built in.
func newDeepReader() *deepReader { return nil }

func (*deepReader) check() error { return nil }

func (*deepReader) read(dst []int, _ int) ([]int, bool) { return dst, false }
