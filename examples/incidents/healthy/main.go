// Command healthy is the baseline of the incident programs: the shared
// request load (200 requests a second of about a millisecond of CPU each,
// through the "requests" pool) and nothing wrong. gdiag doctor must find
// nothing here; every other program in examples/incidents is this one plus
// one fault.
//
//	go run ./examples/incidents/healthy [-agent-dir DIR] [-duration 0] [-load 200]
package main

import "github.com/gdiag/gdiag/examples/incidents/internal/harness"

func main() {
	harness.Main(harness.Program{Name: "healthy"})
}
