package fgprof_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/gdiag/gdiag/exporters/fgprof"
	"github.com/gdiag/gdiag/probes"
)

// Serve wall-clock profiles at /v1/profile/wall next to the standard ones.
func ExampleProfile() {
	h := probes.Handler(probes.HandlerOptions{
		Profiles: map[string]probes.ProfileFunc{"wall": fgprof.Profile()},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	// go tool pprof <url> reads it; here we only show the address.
	fmt.Println("wall profile at /v1/profile/wall?seconds=10")
	// Output: wall profile at /v1/profile/wall?seconds=10
}
