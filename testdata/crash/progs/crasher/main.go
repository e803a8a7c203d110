// Command crasher crashes in the way its first argument names, so that
// scripts/crash-corpus can record what the Go runtime prints. Before it
// crashes it starts a few goroutines of the kinds a service has (workers
// blocked on a channel, a ticker loop, a goroutine locked to its thread, a
// mutex waiter), so that the traceback levels have something to hide.
//
//	crasher MODE [wait]
//
// With "wait" as the second argument the goroutines are left blocked for
// 61 seconds first, so that the runtime prints wait times ("1 minutes").
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"
	_ "unsafe" // for go:linkname
)

//go:linkname throw runtime.throw
func throw(s string)

var modes = map[string]func(){
	"index":      index,
	"nil":        nilDeref,
	"mapwrites":  mapWrites,
	"deadlock":   deadlock,
	"overflow":   overflow,
	"recovered":  recovered,
	"repanicked": repanicked,
	"nested":     nested,
	"throw":      func() { throw("crasher: invariant broken") },
	"threads":    threads,
	"deep":       func() { deep(300) },
	"error":      multiline,
	"goexit":     goexit,
	"unlock":     unlock,
	"labels":     labels,
	"sleep":      func() { select {} },
	"custom":     func() { panic(code(42)) },
	"fatalpanic": fatalInDefer,
}

type code int

func main() {
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds)
	if len(os.Args) < 2 || modes[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: crasher MODE [wait]")
		os.Exit(2)
	}
	mode := os.Args[1]
	if mode != "deadlock" && mode != "goexit" {
		background()
	}
	log.Printf("crasher: starting %s (pid %d)", mode, os.Getpid())
	if len(os.Args) > 2 && os.Args[2] == "wait" {
		// The runtime stamps a blocked goroutine's wait start when a GC
		// scans its stack, with the end time of the GC before: it takes
		// two to print a wait time.
		runtime.GC()
		runtime.GC()
		log.Printf("crasher: letting goroutines wait 61s")
		time.Sleep(61 * time.Second)
	}
	log.Printf("crasher: crashing")
	modes[mode]()
	log.Printf("crasher: %s did not crash", mode)
}

var mu sync.Mutex

// background starts goroutines in the states a service's goroutines are in.
func background() {
	jobs := make(chan int)
	var ready sync.WaitGroup
	for i := range 4 {
		ready.Add(1)
		go worker(i, jobs, &ready)
	}
	ready.Add(1)
	go ticker(&ready)
	ready.Add(1)
	go func() {
		runtime.LockOSThread()
		ready.Done()
		<-jobs
	}()
	mu.Lock()
	ready.Add(1)
	go func() {
		ready.Done()
		mu.Lock()
	}()
	ready.Wait()
	time.Sleep(10 * time.Millisecond) // let them block
}

func worker(id int, jobs <-chan int, ready *sync.WaitGroup) {
	ready.Done()
	for j := range jobs {
		_ = j * id
	}
}

func ticker(ready *sync.WaitGroup) {
	t := time.NewTicker(time.Hour)
	ready.Done()
	for range t.C {
	}
}

//go:noinline
func index() {
	s := []int{1, 2, 3}
	i := len(os.Args) + 3
	fmt.Println(s[i])
}

type server struct{ name *string }

//go:noinline
func nilDeref() {
	var s *server
	fmt.Println(*s.name)
}

func mapWrites() {
	m := map[int]int{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				m[i%100+g] = i
			}
		}()
	}
	wg.Wait()
}

func deadlock() {
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ch <- 1; ch <- 2 }()
	<-ch
	wg.Wait()
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[3])
}

func overflow() {
	debug.SetMaxStack(1 << 20)
	recurse(0)
}

func recovered() {
	defer func() {
		r := recover()
		panic(fmt.Sprintf("handling %v: cleanup failed", r))
	}()
	panic("first failure")
}

func repanicked() {
	defer func() {
		r := recover()
		log.Printf("crasher: recovered %v, panicking again with it", r)
		panic(r)
	}()
	panic(errors.New("connection reset"))
}

func nested() {
	defer func() {
		panic("panic in deferred cleanup")
	}()
	panic("original panic")
}

// threads locks goroutines to threads until the thread limit is hit,
// which the runtime reports with a throw.
func threads() {
	debug.SetMaxThreads(20)
	for range 40 {
		go func() {
			runtime.LockOSThread()
			time.Sleep(time.Hour)
		}()
	}
	time.Sleep(time.Hour)
}

//go:noinline
func deep(n int) {
	if n == 0 {
		panic("deep recursion reached the bottom")
	}
	deep(n - 1)
}

func multiline() {
	err := errors.Join(errors.New("open config: no such file"), errors.New("goroutine 9 [running]:\nfake header in an error"))
	panic(err)
}

func goexit() {
	runtime.Goexit()
}

func unlock() {
	var m sync.Mutex
	m.Unlock()
}

// labels crashes in a goroutine started under pprof labels, beside
// another labelled goroutine. (A panic inside pprof.Do itself prints no
// labels: Do's deferred restore runs before the traceback.)
func labels() {
	parked := make(chan struct{})
	pprof.Do(context.Background(), pprof.Labels("handler", "/api/orders", "tenant", "a, b]"), func(context.Context) {
		go func() { close(parked); select {} }()
		<-parked
		go index()
	})
	select {}
}

// fatalInDefer hits a fatal error in a deferred call while panicking:
// the runtime prints the panic, then the fatal error.
func fatalInDefer() {
	defer func() {
		var m sync.Mutex
		m.Unlock()
	}()
	panic("panicking before a fatal error")
}

func (c code) String() string { return fmt.Sprintf("code %d", int(c)) }
