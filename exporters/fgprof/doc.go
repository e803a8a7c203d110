// Package fgprof serves wall-clock profiles through the probes endpoint.
//
// A CPU profile sees only goroutines that run; a service that is slow because
// it waits (on locks, channels, the network, a full pool queue) looks idle in
// it. github.com/felixge/fgprof samples every goroutine's stack, running or
// not, 99 times a second, so time spent waiting shows up next to time spent
// computing. Profile adapts it to probes.ProfileFunc:
//
//	probes.Options{Profiles: map[string]probes.ProfileFunc{"wall": fgprof.Profile()}}
//
// serves it at /v1/profile/wall?seconds=N, in pprof format (read it with
// go tool pprof; its sample type is "samples" and "time").
//
// # Concurrency, cost and stability
//
// The function Profile returns is safe for concurrent use; captures are
// independent and do not use the CPU profiler, so they run alongside CPU
// profiles and continuous profiling. Each sample reads the stacks of all
// goroutines (runtime.GoroutineProfile, which stops the world briefly), so the
// cost of a capture grows with the number of goroutines: modest for
// thousands, noticeable for hundreds of thousands. Nothing runs between
// captures. The API is stable.
package fgprof
