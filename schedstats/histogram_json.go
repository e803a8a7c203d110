package schedstats

import (
	"encoding/json"
	"fmt"
	"math"
)

// jsonBound is a histogram bound in JSON: a number, or the strings "+Inf"
// and "-Inf", which JSON numbers cannot express (runtime/metrics uses
// infinite outer bounds).
type jsonBound float64

func (b jsonBound) MarshalJSON() ([]byte, error) {
	switch f := float64(b); {
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(f):
		return nil, fmt.Errorf("schedstats: NaN histogram bound")
	}
	return json.Marshal(float64(b))
}

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
// "-Inf", so that a Snapshot with runtime/metrics histograms encodes.
func (h Histogram) MarshalJSON() ([]byte, error) {
	j := jsonHistogram{Bounds: make([]jsonBound, len(h.Bounds)), Counts: h.Counts}
	for i, b := range h.Bounds {
		j.Bounds[i] = jsonBound(b)
	}
	return json.Marshal(j)
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
