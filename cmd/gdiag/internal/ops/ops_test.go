package ops

import (
	"math"
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"off", math.MaxInt64, true},
		{"OFF", math.MaxInt64, true},
		{"1048576", 1 << 20, true},
		{"512MiB", 512 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1.5GB", 1.5e9, true},
		{"64KiB", 64 << 10, true},
		{"100B", 100, true},
		{"-1", 0, false},
		{"12parsecs", 0, false},
		{"NaNGiB", 0, false},
		{"9999999TiB", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || tt.ok && got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]int{"off": -1, "0": 0, "100": 100, "250": 250} {
		if got, err := parsePercent(in); err != nil || got != want {
			t.Errorf("parsePercent(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-5", "x", "", "1e3"} {
		if _, err := parsePercent(in); err == nil {
			t.Errorf("parsePercent(%q) = nil error; want a usage error", in)
		}
	}
}

func TestTexts(t *testing.T) {
	for b, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1 << 10: "1.0 KiB", 3 << 20: "3.0 MiB", 2 << 30: "2.00 GiB"} {
		if got := bytesText(b); got != want {
			t.Errorf("bytesText(%d) = %q; want %q", b, got, want)
		}
	}
	if limitText(math.MaxInt64) != "none" || gogcText(-1) != "off" || gogcText(80) != "80" {
		t.Error("limitText/gogcText of the special values")
	}
}
