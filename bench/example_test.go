package bench_test

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/bench"
)

// Every library runs the same fixed task; Wait returns once all have run.
func ExampleLibrary() {
	var n atomic.Int64
	lib, _ := bench.LibraryByName("conc")
	r := lib.New(4, bench.Default, func() { n.Add(1) })
	for range 100 {
		if err := r.Submit(); err != nil {
			fmt.Println(err)
		}
	}
	r.Wait()
	fmt.Println(lib.Name, n.Load())
	// Output: conc 100
}

func ExampleChanPool() {
	var n atomic.Int64
	p := bench.NewChanPool(2, 2)
	for range 10 {
		p.Go(func() { n.Add(1) })
	}
	p.Close()
	fmt.Println(n.Load())
	// Output: 10
}

// Measure is what cmd/rss runs, one library per process.
func ExampleMeasure() {
	lib, _ := bench.LibraryByName("chan")
	res, err := bench.Measure(lib, 100, 10, time.Millisecond, time.Millisecond)
	fmt.Println(res.Lib, res.Completed, err)
	// Output: chan 100 <nil>
}
