package apiv1_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
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

// TestBreakerStateByName: a breaker's state travels by name, and a name
// the client does not know is an error, not a wrong state.
func TestBreakerStateByName(t *testing.T) {
	b, err := json.Marshal(apiv1.Pool{Breakers: []pool.BreakerStats{{State: pool.BreakerHalfOpen}}})
	if err != nil || !strings.Contains(string(b), `"state":"half-open"`) {
		t.Fatalf("Marshal = %s, %v; want the state by name", b, err)
	}
	var p apiv1.Pool
	if err := json.Unmarshal([]byte(`{"breakers":[{"state":"open"}]}`), &p); err != nil || p.Breakers[0].State != pool.BreakerOpen {
		t.Errorf("Unmarshal open = %+v, %v", p.Breakers, err)
	}
	if err := json.Unmarshal([]byte(`{"breakers":[{"state":"tripped"}]}`), &p); err == nil {
		t.Error("Unmarshal of an unknown state succeeded; want an error")
	}
}

func TestGODEBUGSetting(t *testing.T) {
	for _, c := range []struct {
		g       apiv1.GODEBUG
		key     string
		want    string
		wantSet bool
	}{
		{apiv1.GODEBUG{}, "asyncpreemptoff", "", false},
		{apiv1.GODEBUG{Env: "asyncpreemptoff=1"}, "asyncpreemptoff", "1", true},
		{apiv1.GODEBUG{Env: "gctrace=1,asyncpreemptoff=1,asyncpreemptoff=0"}, "asyncpreemptoff", "0", true},
		{apiv1.GODEBUG{Env: "gctrace=1, asyncpreemptoff=1"}, "asyncpreemptoff", "", false},
		{apiv1.GODEBUG{Default: "asyncpreemptoff=1,panicnil=0"}, "asyncpreemptoff", "1", true},
		{apiv1.GODEBUG{Env: "asyncpreemptoff=0", Default: "asyncpreemptoff=1"}, "asyncpreemptoff", "0", true},
		{apiv1.GODEBUG{Env: "asyncpreemptoff", Default: "x=1"}, "asyncpreemptoff", "", false},
	} {
		if v, ok := c.g.Setting(c.key); v != c.want || ok != c.wantSet {
			t.Errorf("%+v.Setting(%q) = %q, %v; want %q, %v", c.g, c.key, v, ok, c.want, c.wantSet)
		}
	}
}
