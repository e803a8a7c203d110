package fgprof_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/google/pprof/profile"

	"github.com/gdiag/gdiag/exporters/fgprof"
	"github.com/gdiag/gdiag/probes"
)

// Serve wall-clock profiles at /v1/profile/wall next to the standard ones,
// then take one of a second (go tool pprof reads the same URL).
func ExampleProfile() {
	h := probes.Handler(probes.HandlerOptions{
		Profiles: map[string]probes.ProfileFunc{"wall": fgprof.Profile()},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/v1/profile/wall?seconds=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	p, err := profile.ParseData(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, p.SampleType[0].Type, p.SampleType[1].Type)
	// Output: 200 OK samples time
}
