package main_test

import (
	"strings"
	"testing"
)

// TestTCPTargets runs the commands that the other tests drive over the
// socket against the agent's token-protected TCP listener.
func TestTCPTargets(t *testing.T) {
	d := sharedDemo(t)
	empty := t.TempDir() // no discovery files: the token must come from --token

	var g goroutinesReport
	decodeJSON(t, gdiag(t, empty, "goroutines", d.TCP, "--token", d.Token, "--json"), &g)
	if g.TotalGoroutines == 0 || len(g.Groups) == 0 {
		t.Errorf("goroutines over TCP: %d goroutines, %d groups; want some", g.TotalGoroutines, len(g.Groups))
	}

	r := gdiag(t, empty, "doctor", d.TCP, "--token", d.Token, "--window", "3s", "--json")
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("doctor over TCP: %s", r)
	}
	var rep doctorReport
	decodeJSON(t, r, &rep)
	if rep.Target != d.TCP || rep.Window == "" {
		t.Errorf("doctor over TCP: target %q window %q; want %q and the window", rep.Target, rep.Window, d.TCP)
	}
	for _, n := range rep.NotChecked {
		if strings.Contains(n, "need the gdiag agent") || strings.Contains(n, "needs the gdiag agent") {
			t.Errorf("doctor over TCP treated the agent as absent: %q", n)
		}
	}
}
