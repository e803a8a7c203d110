package apiv1_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(apiv1.Duration(1500 * time.Millisecond))
	if err != nil || string(b) != `"1.5s"` {
		t.Errorf("Marshal(1.5s) = %s, %v; want \"1.5s\"", b, err)
	}
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`"1.5s"`, 1500 * time.Millisecond, true},
		{`"5m"`, 5 * time.Minute, true},
		{`1000`, time.Microsecond, true},
		{`"x"`, 0, false},
		{`true`, 0, false},
	}
	for _, tt := range tests {
		var d apiv1.Duration
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err == nil) != tt.ok || (tt.ok && time.Duration(d) != tt.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, ok=%v", tt.in, time.Duration(d), err, tt.want, tt.ok)
		}
	}
}

func TestInfoRoundTrip(t *testing.T) {
	in := apiv1.Info{PID: 7, APIVersion: apiv1.Version, Uptime: apiv1.Duration(time.Hour), Capabilities: []string{apiv1.CapTrace}}
	b, _ := json.Marshal(in)
	var out apiv1.Info
	if err := json.Unmarshal(b, &out); err != nil || out.PID != 7 || out.Uptime != in.Uptime || out.Capabilities[0] != "trace" {
		t.Errorf("round trip of %s = %+v, %v", b, out, err)
	}
}

func TestBreakerSeverity(t *testing.T) {
	for state, want := range map[string]int{"closed": 0, "half-open": 1, "open": 2, "tripped": -1, "": -1} {
		if got := apiv1.BreakerSeverity(state); got != want {
			t.Errorf("BreakerSeverity(%q) = %d; want %d", state, got, want)
		}
	}
}
