package pyroscope_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/exporters/pyroscope"
	"github.com/gdiag/gdiag/probes"
)

// Push profiles to a server; stop uploads what is left. Here a stand-in
// server counts the uploads.
func ExampleStart() {
	var uploads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uploads.Add(1)
	}))
	defer srv.Close()

	stop, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "checkout",
		ServerAddress:   srv.URL,
		Tags:            map[string]string{"region": "eu"},
		UploadRate:      time.Second,
	})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	burn(100 * time.Millisecond)
	if err := stop(); err != nil {
		fmt.Println("stop:", err)
	}
	fmt.Println("profiles uploaded:", uploads.Load() > 0)
	// Output: profiles uploaded: true
}

// Keep on-demand CPU profiles working next to continuous profiling by
// replacing the endpoint's standard CPU profile.
func ExampleCPUProfile() {
	stopProfiling, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "checkout",
		ServerAddress:   "http://127.0.0.1:4040",
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return
	}
	defer stopProfiling()
	agent, err := probes.Start(probes.Options{
		Profiles: map[string]probes.ProfileFunc{"cpu": pyroscope.CPUProfile()},
	})
	if err != nil {
		return
	}
	defer agent.Close()
}
