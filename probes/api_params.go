package probes

import (
	"math"
	"net/url"
	"strconv"
	"time"
)

// Limits on query parameters, so that no request can ask for unbounded work.
const (
	maxCensusWait   = 365 * 24 * time.Hour
	maxCensusGroups = 100000
)

// paramError is a bad query parameter, answered with 400.
type paramError struct{ msg, hint string }

func (e *paramError) Error() string { return e.msg }

func badParam(name, msg, hint string) error {
	return &paramError{msg: "bad " + name + ": " + msg, hint: hint}
}

// parseDurationParam reads a Go duration ("1.5s", "5m"); absent means def.
func parseDurationParam(q url.Values, name string, def, max time.Duration) (time.Duration, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, badParam(name, "not a duration", "use a Go duration such as 500ms, 5s or 2m")
	}
	if d < 0 {
		return 0, badParam(name, "negative", "use a duration of zero or more")
	}
	if d > max {
		return 0, badParam(name, "longer than "+max.String(), "use at most "+max.String())
	}
	return d, nil
}

func parseIntParam(q url.Values, name string, def, max int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badParam(name, "not an integer", "use a whole number from 0 to "+strconv.Itoa(max))
	}
	if n < 0 || n > max {
		return 0, badParam(name, "out of range", "use a whole number from 0 to "+strconv.Itoa(max))
	}
	return n, nil
}

// captureDuration reads the capture length from "seconds" (a number, as
// net/http/pprof takes it) or "duration" (a Go duration), not both. It
// returns def capped at max when neither is given, and refuses a request
// longer than max rather than silently shortening it.
func captureDuration(q url.Values, def, max time.Duration) (time.Duration, bool, error) {
	secs, dur := q.Get("seconds"), q.Get("duration")
	hint := "use seconds=N or duration=5s, at most " + max.String()
	switch {
	case secs != "" && dur != "":
		return 0, false, badParam("duration", "both seconds and duration given", "give one of them")
	case secs != "":
		f, err := strconv.ParseFloat(secs, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false, badParam("seconds", "not a number", hint)
		}
		if f < 0 {
			return 0, false, badParam("seconds", "negative", hint)
		}
		if f > max.Seconds() {
			return 0, false, badParam("seconds", "longer than the maximum "+max.String(), hint)
		}
		return time.Duration(f * float64(time.Second)), true, nil
	case dur != "":
		d, err := parseDurationParam(q, "duration", 0, max)
		if err != nil {
			return 0, false, &paramError{msg: err.Error(), hint: hint}
		}
		return d, true, nil
	}
	return min(def, max), false, nil
}
