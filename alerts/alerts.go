package alerts

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed gdiag.rules.yml
var rules []byte

// Rules returns the contents of gdiag.rules.yml, the alert rules as a
// Prometheus rules file. The result is a fresh copy.
func Rules() []byte { return append([]byte(nil), rules...) }

// ErrBadFactor is returned by Scale for a factor below 1.
var ErrBadFactor = errors.New("alerts: scale factor must be at least 1")

// ErrTooShort is returned by Scale when a duration would shrink below one
// millisecond, the resolution of Prometheus durations.
var ErrTooShort = errors.New("alerts: scaled duration under 1ms")

// Durations as Prometheus writes them: one or more number-unit pairs, largest
// unit first ("1h30m", "500ms").
const durationRE = `(?:[0-9]+(?:ms|s|m|h|d|w|y))+`

var (
	// A for: or keep_firing_for: field, possibly quoted.
	forField = regexp.MustCompile(`(?m)^(\s*(?:-\s+)?(?:for|keep_firing_for):\s*["']?)(` + durationRE + `)(["']?\s*(?:#.*)?)$`)
	// The range of a range vector or a subquery: [5m] or [30m:1m] or [30m:].
	rangeSel = regexp.MustCompile(`\[\s*(` + durationRE + `)\s*(?::\s*(` + durationRE + `)?\s*)?\]`)
	// An offset modifier; Prometheus allows a negative offset.
	offsetMod = regexp.MustCompile(`\boffset\s+(-?)(` + durationRE + `)`)
	unitPair  = regexp.MustCompile(`([0-9]+)(ms|s|m|h|d|w|y)`)
)

var units = map[string]time.Duration{
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
}

// Scale returns a copy of a Prometheus rules file with every duration
// divided by factor: the for: and keep_firing_for: fields, and inside
// expressions the ranges of range vectors and subqueries ([5m], [30m:1m])
// and offset modifiers. Thresholds, labels and annotations are left alone,
// except that a range or offset written in annotation text is scaled too.
//
// Scale exists so that a test or a demonstration can see in seconds what
// the rules do in minutes: gdiag.rules.yml writes every duration in whole
// minutes, so Scale(Rules(), 60) turns each minute into a second and keeps
// every range at least twice a 1s scrape interval. It returns ErrBadFactor
// when factor < 1 and ErrTooShort when a duration would fall under 1ms.
// Scaled durations are written in seconds, or in milliseconds when they
// are not whole seconds.
func Scale(rules []byte, factor int) ([]byte, error) {
	if factor < 1 {
		return nil, fmt.Errorf("%w: %d", ErrBadFactor, factor)
	}
	var err error
	scale := func(d string) string {
		s, e := scaleDuration(d, factor)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	text := string(rules)
	text = forField.ReplaceAllStringFunc(text, func(m string) string {
		g := forField.FindStringSubmatch(m)
		return g[1] + scale(g[2]) + g[3]
	})
	text = rangeSel.ReplaceAllStringFunc(text, func(m string) string {
		g := rangeSel.FindStringSubmatch(m)
		if !strings.Contains(m, ":") {
			return "[" + scale(g[1]) + "]"
		}
		if g[2] == "" {
			return "[" + scale(g[1]) + ":]"
		}
		return "[" + scale(g[1]) + ":" + scale(g[2]) + "]"
	})
	text = offsetMod.ReplaceAllStringFunc(text, func(m string) string {
		g := offsetMod.FindStringSubmatch(m)
		return "offset " + g[1] + scale(g[2])
	})
	if err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// scaleDuration divides a Prometheus duration by factor.
func scaleDuration(s string, factor int) (string, error) {
	var d time.Duration
	for _, g := range unitPair.FindAllStringSubmatch(s, -1) {
		n, err := strconv.ParseInt(g[1], 10, 64)
		if err != nil {
			return s, fmt.Errorf("alerts: duration %q: %w", s, err)
		}
		d += time.Duration(n) * units[g[2]]
	}
	d /= time.Duration(factor)
	if d < time.Millisecond {
		return s, fmt.Errorf("%w: %s / %d", ErrTooShort, s, factor)
	}
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s", nil
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms", nil
}
