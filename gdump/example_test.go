package gdump_test

import (
	"fmt"
	"strings"

	"github.com/gdiag/gdiag/gdump"
)

const dump = `goroutine 1 [running]:
main.main()
	/src/main.go:10 +0x1d

goroutine 7 [chan receive, 3 minutes]:
main.worker()
	/src/main.go:20 +0x2a
created by main.main in goroutine 1
	/src/main.go:9 +0x3b

goroutine 8 [chan receive, 5 minutes]:
main.worker()
	/src/main.go:20 +0x2a
created by main.main in goroutine 1
	/src/main.go:9 +0x3b
`

// Parse reads a debug=2 dump; GroupGoroutines folds identical stacks.
func Example() {
	gs, err := gdump.Parse(strings.NewReader(dump))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range gdump.GroupGoroutines(gs) {
		fmt.Printf("%d × [%s] %s, longest wait %v\n", g.Count, g.State, g.Frames[0].Func, g.MaxWait)
	}
	// Output:
	// 2 × [chan receive] main.worker, longest wait 5m0s
	// 1 × [running] main.main, longest wait 0s
}

const crash = `2026/11/29 12:31:08 server: listening on :8080
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
main.index(...)
	/src/main.go:119
main.main()
	/src/main.go:69 +0x2f2
exit status 2
`

// Read takes a crash as a terminal shows it: the log line before and
// go run's exit status after are not goroutines.
func ExampleRead() {
	d, err := gdump.Read(strings.NewReader(crash), gdump.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := d.Crash
	fmt.Println(c.Message())
	fmt.Printf("raised by goroutine %d in %s\n", c.Goroutine.ID, c.Goroutine.Where().Func)
	fmt.Printf("%d goroutine, level %q, %d other lines, exit %q\n", d.Count, d.Level, d.Other, d.Exit)
	// Output:
	// panic: runtime error: index out of range [5] with length 3
	// raised by goroutine 1 in main.index
	// 1 goroutine, level "single", 2 other lines, exit "exit status 2"
}

// A Grouper groups goroutines as Scan reads them, without keeping them.
func ExampleScan() {
	var gr gdump.Grouper
	d, err := gdump.Scan(strings.NewReader(dump), gdump.Options{}, gr.Add)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d goroutines in %d groups\n", d.Count, gr.Len())
	// Output:
	// 3 goroutines in 2 groups
}
