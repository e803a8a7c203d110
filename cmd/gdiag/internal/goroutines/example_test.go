package goroutines_test

import (
	"os"
	"strings"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
	"github.com/gdiag/gdiag/gdump"
)

func ExampleNewReport() {
	const dump = `goroutine 1 [running]:
main.main()
	/app/main.go:9 +0x1d

goroutine 7 [chan receive, 4 minutes]:
main.worker(0xc000010000)
	/app/worker.go:40 +0x2a
created by main.main in goroutine 1
	/app/main.go:12 +0x3c

goroutine 8 [chan receive, 9 minutes]:
main.worker(0xc000010008)
	/app/worker.go:40 +0x2a
created by main.main in goroutine 1
	/app/main.go:12 +0x3c
`
	gs, err := gdump.Parse(strings.NewReader(dump))
	if err != nil {
		panic(err)
	}
	o := goroutines.Options{State: "chan"}
	goroutines.NewReport("app.txt", gs, o).WriteText(os.Stdout, o)
	// Output:
	// app.txt: 3 goroutines in 2 groups: 2 chan receive, 1 running
	// showing 1 of 1 group (2 goroutines) matching --state "chan"
	//
	// 2 goroutines [chan receive, 4 to 9 minutes]  ids 7 8
	//     main.worker
	//         /app/worker.go:40
	//     created by main.main
	//         /app/main.go:12
}
