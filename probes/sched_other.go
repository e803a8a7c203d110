//go:build !go1.26 || go1.27

package probes

// mirrorName is empty: this toolchain has no mirror of runtime.sched, so
// the Reader uses runtime/metrics only.
const mirrorName = ""

// liveSched returns nil: there is no mirror for this Go version.
func liveSched() viewSource { return nil }
