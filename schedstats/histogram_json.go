package schedstats

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

// jsonBound decodes a histogram bound from JSON: a number, or the strings
// "+Inf" and "-Inf", which JSON numbers cannot express (runtime/metrics
// uses infinite outer bounds). Histogram.MarshalJSON writes them.
type jsonBound float64

func (b *jsonBound) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `"+Inf"`:
		*b = jsonBound(math.Inf(1))
		return nil
	case `"-Inf"`:
		*b = jsonBound(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("schedstats: histogram bound: %w", err)
	}
	*b = jsonBound(f)
	return nil
}

type jsonHistogram struct {
	Bounds []jsonBound `json:"bounds"`
	Counts []uint64    `json:"counts"`
}

// MarshalJSON encodes the histogram with infinite bounds as "+Inf" and
// "-Inf", so that a Snapshot with runtime/metrics histograms encodes. It
// writes the numbers as encoding/json does, directly: a snapshot holds
// several histograms of about 160 buckets, and the agent's history
// hundreds of snapshots.
func (h Histogram) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32+12*len(h.Bounds)+4*len(h.Counts))
	b = append(b, `{"bounds":`...)
	if h.Bounds == nil {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = boundsJSON.append(b, h.Bounds); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"counts":`...)
	if h.Counts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range h.Counts {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, c, 10)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// boundsJSON remembers the encoding of the bucket layouts seen last: a
// process's histograms share a few layouts (runtime/metrics' time
// histograms have one), and formatting 160 floats costs far more than
// comparing them.
var boundsJSON boundsCache

type boundsCache struct {
	mu      sync.Mutex
	entries [8]struct {
		bounds []float64
		json   []byte
	}
	next int
}

// append appends bounds as a JSON array.
func (c *boundsCache) append(b []byte, bounds []float64) ([]byte, error) {
	c.mu.Lock()
	for _, e := range c.entries {
		if e.json != nil && slices.Equal(e.bounds, bounds) {
			b = append(b, e.json...)
			c.mu.Unlock()
			return b, nil
		}
	}
	c.mu.Unlock()
	start := len(b)
	b = append(b, '[')
	for i, f := range bounds {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsInf(f, 1):
			b = append(b, `"+Inf"`...)
		case math.IsInf(f, -1):
			b = append(b, `"-Inf"`...)
		case math.IsNaN(f):
			return nil, fmt.Errorf("schedstats: NaN histogram bound")
		default:
			b = appendJSONFloat(b, f)
		}
	}
	b = append(b, ']')
	c.mu.Lock()
	e := &c.entries[c.next]
	e.bounds, e.json = slices.Clone(bounds), slices.Clone(b[start:])
	c.next = (c.next + 1) % len(c.entries)
	c.mu.Unlock()
	return b, nil
}

// appendJSONFloat appends f as encoding/json writes a float64: the
// shortest decimal, in exponent form below 1e-6 and from 1e21, with a
// one-digit negative exponent written without its leading zero.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var j jsonHistogram
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	h.Bounds = make([]float64, len(j.Bounds))
	for i, b := range j.Bounds {
		h.Bounds[i] = float64(b)
	}
	h.Counts = j.Counts
	return nil
}
