package probes

import (
	"net/url"
	"testing"
	"time"
)

func TestCaptureDuration(t *testing.T) {
	const max = time.Minute
	tests := []struct {
		query string
		want  time.Duration
		given bool
		ok    bool
	}{
		{"", 30 * time.Second, false, true},
		{"seconds=5", 5 * time.Second, true, true},
		{"seconds=0.25", 250 * time.Millisecond, true, true},
		{"duration=1m", time.Minute, true, true},
		{"duration=1500ms", 1500 * time.Millisecond, true, true},
		{"seconds=61", 0, false, false},
		{"duration=61s", 0, false, false},
		{"seconds=-1", 0, false, false},
		{"duration=-1s", 0, false, false},
		{"seconds=Inf", 0, false, false},
		{"seconds=1e400", 0, false, false},
		{"seconds=x", 0, false, false},
		{"duration=5", 0, false, false},
		{"seconds=1&duration=1s", 0, false, false},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		d, given, err := captureDuration(q, 30*time.Second, max)
		if (err == nil) != tt.ok || (tt.ok && (d != tt.want || given != tt.given)) {
			t.Errorf("captureDuration(%q) = %v, %v, %v; want %v, %v, ok=%v", tt.query, d, given, err, tt.want, tt.given, tt.ok)
		}
	}
	q, _ := url.ParseQuery("")
	if d, _, _ := captureDuration(q, time.Hour, max); d != max {
		t.Errorf("default above the maximum = %v; want it capped to %v", d, max)
	}
}
