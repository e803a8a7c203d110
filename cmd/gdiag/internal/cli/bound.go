package cli

import (
	"math"
	"time"
)

// AtMost formats an upper bound in seconds, such as a histogram quantile
// (schedstats.Histogram.Quantile), as "≤" and a duration of three
// significant digits rounded up, so that it reads as a bound and stays
// one: 4.194304 prints "≤4.2s". It prints "-" for NaN or an infinity.
func AtMost(seconds float64) string { return bound("≤", seconds, true) }

// AtLeast formats a lower bound in seconds as "≥" and a duration of three
// significant digits rounded down: 0.134217728 prints "≥134ms".
func AtLeast(seconds float64) string { return bound("≥", seconds, false) }

func bound(sign string, seconds float64, up bool) string {
	if math.IsNaN(seconds) || math.Abs(seconds) > 1e9 {
		return "-"
	}
	ns := seconds * 1e9
	// Three significant digits: the unit is the power of ten that leaves
	// the value below 1000 units. A relative nudge of 1e-12 keeps float
	// noise (0.001 s × 1e9 = 1000000.0000000001 ns) from pushing a value
	// that sits on a unit to the next one.
	u := 1.0
	for math.Abs(ns) >= 1000*u {
		u *= 10
	}
	var n float64
	if up {
		n = math.Ceil(ns / u * (1 - 1e-12))
	} else {
		n = math.Floor(ns / u * (1 + 1e-12))
	}
	return sign + time.Duration(n*u).String()
}
