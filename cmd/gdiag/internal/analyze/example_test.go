package analyze_test

import (
	"fmt"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/analyze"
)

// Detect recognises a file by its first bytes, wherever a text log starts.
func ExampleDetect() {
	fmt.Println(analyze.Detect([]byte("server starting\nSCHED 0ms: gomaxprocs=4 idleprocs=3 threads=5\n")))
	fmt.Println(analyze.Detect([]byte("goroutine 1 [running]:\nmain.main()\n")))
	fmt.Println(analyze.Detect([]byte("go 1.26 trace\x00\x00\x00")))
	fmt.Printf("%q\n", analyze.Detect([]byte("hello")))
	// Output:
	// schedtrace
	// goroutines
	// trace
	// ""
}
