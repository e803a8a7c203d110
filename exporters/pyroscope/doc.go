// Package pyroscope pushes continuous profiles of a Go service to a Pyroscope
// server, so that flame graphs can be split by gdiag pool.
//
// Start wraps github.com/grafana/pyroscope-go: it profiles CPU, allocations,
// heap in use, goroutines, mutex and block contention, and uploads a profile
// of each type every Config.UploadRate. The pool package runs its workers
// under the pprof label pool=<name> (and a task with a label under
// task=<label>); runtime/pprof records those labels on every CPU sample, the
// uploaded profiles carry them, and the server exposes them as series labels,
// so a query such as
//
//	process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="checkout", pool="batch"}
//
// shows where one pool spends its CPU. The runtime records pprof labels on
// CPU samples and in the goroutine profile only; its allocation, heap, mutex
// and block profiles carry none.
//
// # Sharing the CPU profiler
//
// Go runs one CPU profile per process at a time, and continuous profiling
// holds it all the time. While Start's profiler runs, the probes endpoint's
// standard /v1/profile/cpu therefore answers 409 Conflict ("a CPU profile is
// already running; retry when it ends", with the runtime's "cpu profiling
// already in use" as hint), and net/http/pprof's /debug/pprof/profile answers
// 500 with the same runtime error. To take on-demand CPU
// profiles anyway, register CPUProfile in place of the standard one:
//
//	probes.Options{Profiles: map[string]probes.ProfileFunc{"cpu": pyroscope.CPUProfile()}}
//
// CPUProfile asks the continuous profiler to pause: it cuts and uploads the
// background profile, profiles into both the caller's writer and its own
// buffer for the requested duration, then resumes. Nothing is lost from the
// continuous series, and only one on-demand capture runs at a time (a second
// one fails, which probes turns into 409).
//
// Mutex and block profiles stay empty unless the program enables them with
// runtime.SetMutexProfileFraction and runtime.SetBlockProfileRate: Start
// does not change these process-wide rates.
//
// # Concurrency, cost and stability
//
// Start may be called more than once (each call is an independent profiler,
// but they share the single CPU profiler: run one with CPU profiling per
// process). The stop function is safe to call concurrently and more than once.
// The cost is that of pyroscope-go: the runtime's CPU profiler sampling at
// 100 Hz all the time, a read of each other profile per upload (the heap
// profile after a forced GC), and one HTTP upload per profile type per
// UploadRate; measure it on your service before raising UploadRate's
// frequency. Config and the signatures of
// Start and CPUProfile are stable; the default profile types may grow.
package pyroscope
