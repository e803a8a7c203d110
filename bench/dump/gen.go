package dump

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// frame is one call of a shape's stack; args may hold one %[1]x verb,
// filled with a per-goroutine value so that arguments differ between the
// goroutines of a group, as heap pointers do in a real dump.
type frame struct {
	fn, args, loc string
}

// shape is one kind of goroutine: its state, stack and creator. variant
// (0 to variants-1) is substituted into the leaf's %[2]d verbs so that one
// shape yields several distinct stacks, like the handlers of a server.
type shape struct {
	state    string
	weight   int // relative number of goroutines
	variants int
	waitMax  int // minutes; 0 prints no wait time
	frames   []frame
	created  frame // fn without "created by "; empty for runtime goroutines
}

const goroot = "/usr/local/go/src"

var ioWait = []frame{
	{"internal/poll.runtime_pollWait", "0x7f0c8ad8%04[1]x, 0x72", goroot + "/runtime/netpoll.go:351 +0x85"},
	{"internal/poll.(*pollDesc).wait", "0xc000a1%04[1]x?, 0xc000b2%04[1]x?, 0x0", goroot + "/internal/poll/fd_poll_runtime.go:84 +0x27"},
	{"internal/poll.(*pollDesc).waitRead", "...", goroot + "/internal/poll/fd_poll_runtime.go:89"},
	{"internal/poll.(*FD).Read", "0xc000a1%04[1]x, {0xc000b2%04[1]x, 0x1000, 0x1000}", goroot + "/internal/poll/fd_unix.go:165 +0x27a"},
	{"net.(*netFD).Read", "0xc000a1%04[1]x, {0xc000b2%04[1]x?, 0x0?, 0x0?}", goroot + "/net/fd_posix.go:68 +0x25"},
	{"net.(*conn).Read", "0xc0000a%04[1]x, {0xc000b2%04[1]x?, 0x0?, 0x0?}", goroot + "/net/net.go:196 +0x45"},
}

var httpServe = frame{"net/http.(*conn).serve", "0xc000a1%04[1]x, {0x9a8b38, 0xc000a0%04[1]x}", goroot + "/net/http/server.go:2054 +0x785"}
var httpCreated = frame{"net/http.(*Server).Serve in goroutine 1", "", goroot + "/net/http/server.go:3285 +0x4b4"}

var shapes = []shape{
	{state: "IO wait", weight: 30, variants: 1, waitMax: 9, frames: append(append([]frame{}, ioWait...),
		frame{"net/http.(*connReader).Read", "0xc000a2%04[1]x, {0xc000b2%04[1]x, 0x1000, 0x1000}", goroot + "/net/http/server.go:806 +0x14a"},
		frame{"bufio.(*Reader).fill", "0xc000a0%04[1]x", goroot + "/bufio/bufio.go:113 +0x103"},
		frame{"bufio.(*Reader).Peek", "0xc000a0%04[1]x, 0x4", goroot + "/bufio/bufio.go:152 +0x53"},
		httpServe), created: httpCreated},
	{state: "chan receive", weight: 20, variants: 8, waitMax: 0, frames: []frame{
		{"example.com/shop/internal/jobs.(*Pool).worker%[2]d", "0xc0001%05[1]x, 0x%[2]x", "/home/build/shop/internal/jobs/pool.go:%[2]d2 +0x9d"},
		{"example.com/shop/internal/jobs.(*Pool).Start.gowrap1", "", "/home/build/shop/internal/jobs/pool.go:48 +0x25"},
	}, created: frame{"example.com/shop/internal/jobs.(*Pool).Start in goroutine 1", "", "/home/build/shop/internal/jobs/pool.go:48 +0x66"}},
	{state: "select", weight: 15, variants: 40, waitMax: 3, frames: []frame{
		{"example.com/shop/internal/api.(*Server).handle%[2]d", "0xc0002%05[1]x, {0xa1b2c0, 0xc0003%05[1]x}, 0xc0004%05[1]x", "/home/build/shop/internal/api/routes.go:%[2]d7 +0x1c4"},
		{"net/http.HandlerFunc.ServeHTTP", "0xc0005%05[1]x?, {0xa1b2c0?, 0xc0003%05[1]x?}, 0x0?", goroot + "/net/http/server.go:2294 +0x29"},
		{"net/http.(*ServeMux).ServeHTTP", "0xc000120000?, {0xa1b2c0, 0xc0003%05[1]x}, 0xc0004%05[1]x", goroot + "/net/http/server.go:2822 +0x1c4"},
		{"net/http.serverHandler.ServeHTTP", "{0xc000116000?}, {0xa1b2c0?, 0xc0003%05[1]x?}, 0x6?", goroot + "/net/http/server.go:3301 +0x8e"},
		httpServe,
	}, created: httpCreated},
	{state: "chan send", weight: 12, variants: 2, waitMax: 45, frames: []frame{
		{"example.com/shop/internal/events.(*Bus).publish%[2]d.func1", "", "/home/build/shop/internal/events/bus.go:%[2]d21 +0x3d"},
	}, created: frame{"example.com/shop/internal/events.(*Bus).publish%[2]d in goroutine 7", "", "/home/build/shop/internal/events/bus.go:%[2]d19 +0x8e"}},
	{state: "sync.Mutex.Lock", weight: 8, variants: 5, waitMax: 2, frames: []frame{
		{"internal/sync.runtime_SemacquireMutex", "0xc0006%05[1]x?, 0x99?, 0x0?", goroot + "/runtime/sema.go:95 +0x25"},
		{"internal/sync.(*Mutex).lockSlow", "0xc000700010", goroot + "/internal/sync/mutex.go:149 +0x15d"},
		{"internal/sync.(*Mutex).Lock", "...", goroot + "/internal/sync/mutex.go:70"},
		{"sync.(*Mutex).Lock", "...", goroot + "/sync/mutex.go:46"},
		{"example.com/shop/internal/cache.(*LRU).Get%[2]d", "0xc000700000, {0xc0008%05[1]x, 0x24}", "/home/build/shop/internal/cache/lru.go:%[2]d5 +0x4c"},
		{"example.com/shop/internal/api.(*Server).handle%[2]d", "0xc0002%05[1]x, {0xa1b2c0, 0xc0003%05[1]x}, 0xc0004%05[1]x", "/home/build/shop/internal/api/routes.go:%[2]d9 +0x2a0"},
		{"net/http.HandlerFunc.ServeHTTP", "0xc0005%05[1]x?, {0xa1b2c0?, 0xc0003%05[1]x?}, 0x0?", goroot + "/net/http/server.go:2294 +0x29"},
		httpServe,
	}, created: httpCreated},
	{state: "semacquire", weight: 5, variants: 3, waitMax: 0, frames: []frame{
		{"sync.runtime_SemacquireWaitGroup", "0xc0009%05[1]x?, 0x0?", goroot + "/runtime/sema.go:114 +0x2e"},
		{"sync.(*WaitGroup).Wait", "0xc0009%05[1]x", goroot + "/sync/waitgroup.go:206 +0x85"},
		{"example.com/shop/internal/batch.Run%[2]d", "{0xa1c3e0, 0xc000a0%04[1]x}, {0xc000b0%04[1]x, 0x10, 0x10}", "/home/build/shop/internal/batch/run.go:%[2]d3 +0x1f2"},
	}, created: frame{"example.com/shop/internal/batch.Schedule in goroutine 9", "", "/home/build/shop/internal/batch/schedule.go:31 +0x5a"}},
	{state: "sleep", weight: 3, variants: 1, waitMax: 0, frames: []frame{
		{"time.Sleep", "0x3b9aca00", goroot + "/runtime/time.go:363 +0x165"},
		{"example.com/shop/internal/health.(*Checker).loop", "0xc000c0%04[1]x", "/home/build/shop/internal/health/check.go:77 +0x45"},
	}, created: frame{"example.com/shop/internal/health.New in goroutine 1", "", "/home/build/shop/internal/health/check.go:40 +0x11b"}},
	{state: "GC worker (idle)", weight: 1, variants: 1, frames: []frame{
		{"runtime.gopark", "0x0?, 0x0?, 0x0?, 0x0?, 0x0?", goroot + "/runtime/proc.go:435 +0xce"},
		{"runtime.gcBgMarkWorker", "0xc00004%04[1]x", goroot + "/runtime/mgc.go:1423 +0xe9"},
		{"runtime.goexit", "{}", goroot + "/runtime/asm_amd64.s:1700 +0x1"},
	}, created: frame{"runtime.gcBgMarkStartWorkers in goroutine 1", "", goroot + "/runtime/mgc.go:1339 +0x105"}},
}

// Generate returns a goroutine dump in the debug=2 form (as
// pprof.Lookup("goroutine").WriteTo(w, 2) prints it) of n goroutines: one
// running goroutine, then 61 stacks of eight kinds (HTTP connections in
// IO wait, pool workers, handlers in select, leaked senders, lock and
// WaitGroup waiters, sleepers, GC workers) interleaved at random with a
// fixed seed, so the same n always gives the same bytes. Arguments differ
// between goroutines of a group, wait times range up to 45 minutes.
func Generate(n int) []byte {
	total := 0
	for _, s := range shapes {
		total += s.weight
	}
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.Grow(n * 1100)
	b.WriteString("goroutine 1 [running]:\nruntime/pprof.writeGoroutineStacks({0xa1d060, 0xc000c12000})\n\t" + goroot + "/runtime/pprof/pprof.go:819 +0x6b\n" +
		"main.main()\n\t/home/build/shop/cmd/shop/main.go:52 +0x1d\n\n")
	for i := 1; i < n; i++ {
		w := r.IntN(total)
		var s *shape
		for k := range shapes {
			if w < shapes[k].weight {
				s = &shapes[k]
				break
			}
			w -= shapes[k].weight
		}
		writeGoroutine(&b, s, uint64(i)*3+17, r.IntN(s.variants), r)
	}
	return b.Bytes()
}

func writeGoroutine(b *bytes.Buffer, s *shape, id uint64, variant int, r *rand.Rand) {
	fmt.Fprintf(b, "goroutine %d [%s", id, s.state)
	if s.waitMax > 0 {
		if m := r.IntN(s.waitMax + 1); m > 0 {
			fmt.Fprintf(b, ", %d minutes", m)
		}
	}
	b.WriteString("]:\n")
	v := r.IntN(1 << 16)
	for _, f := range s.frames {
		expand(b, f.fn, v, variant)
		b.WriteByte('(')
		expand(b, f.args, v, variant)
		b.WriteString(")\n\t")
		expand(b, f.loc, v, variant)
		b.WriteByte('\n')
	}
	if s.created.fn != "" {
		b.WriteString("created by ")
		expand(b, s.created.fn, v, variant)
		b.WriteString("\n\t")
		expand(b, s.created.loc, v, variant)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}

// expand writes s with its %[1]x verbs set to v and %[2]d to variant+1;
// fmt is only called for templates that use them (it would complain of
// unused arguments otherwise).
func expand(b *bytes.Buffer, s string, v, variant int) {
	if !strings.Contains(s, "%") {
		b.WriteString(s)
		return
	}
	fmt.Fprintf(b, s, v, variant+1)
}
