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
