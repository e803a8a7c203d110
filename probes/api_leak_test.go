package probes

import (
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestLeakProfile: /v1/profile/goroutineleak is served when the runtime
// has the profile (GOEXPERIMENT=goroutineleakprofile) and listed in
// /v1/info; otherwise it answers 404 with how to build for it. The
// experiment build is exercised end to end by cmd/gdiag's doctor test.
func TestLeakProfile(t *testing.T) {
	h := newAPI(fakeSource(), time.Second, nil, nil, context.Background())
	_, listed := standardProfiles[leakProfile]
	rec := get(t, h, "/v1/profile/goroutineleak?debug=2")
	if pprof.Lookup(leakProfile) == nil {
		if listed || rec.Code != 404 || !strings.Contains(rec.Body.String(), "GOEXPERIMENT=goroutineleakprofile") {
			t.Errorf("without the experiment: listed %v, GET = %d %s; want unlisted, 404 with the build hint", listed, rec.Code, rec.Body)
		}
		return
	}
	if !listed || rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine ") {
		t.Errorf("with the experiment: listed %v, GET = %d; want listed, 200 and a text dump", listed, rec.Code)
	}
}
