// Command contended is a service on a host whose CPUs another program
// takes: the shared request load, run beside a CPU hog that the scheduler
// favours (the hog at nice -10, this service at nice 10). The service
// wants about a fifth of a core and gets a sliver; its goroutines queue
// for Ps, its pauses stretch, and none of it is the service's doing.
//
// The end-to-end test starts both (negative nice needs root):
//
//	go build -o /tmp/inc/ ./examples/incidents/contended ./examples/incidents/internal/hog
//	nice -n -10 /tmp/inc/hog &
//	nice -n 10 /tmp/inc/contended -agent-dir /tmp/gd1 &
//	GDIAG_DIR=/tmp/gd1 nice -n -10 gdiag doctor $!
//
// gdiag doctor should name cpu-starved first (run delay against CPU used,
// the host busy with other processes), not cpu-saturation or stw-pauses.
package main

import "github.com/gdiag/gdiag/examples/incidents/internal/harness"

func main() {
	harness.Main(harness.Program{Name: "contended"})
}
