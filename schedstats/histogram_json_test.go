package schedstats_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

func TestHistogramJSONInfinities(t *testing.T) {
	h := schedstats.Histogram{Bounds: []float64{math.Inf(-1), 0, 1e-6, math.Inf(1)}, Counts: []uint64{0, 3, 4}}
	b, err := json.Marshal(schedstats.Snapshot{SchedLatency: h})
	if err != nil {
		t.Fatalf("json.Marshal(Snapshot) = %v; want no error", err)
	}
	if !strings.Contains(string(b), `["-Inf",0,0.000001,"+Inf"]`) {
		t.Errorf("json.Marshal(Snapshot) = %s; want bounds [\"-Inf\",0,0.000001,\"+Inf\"]", b)
	}
	var got schedstats.Snapshot
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("json.Unmarshal = %v", err)
	}
	if !reflect.DeepEqual(got.SchedLatency, h) {
		t.Errorf("round trip = %+v; want %+v", got.SchedLatency, h)
	}
	var bad schedstats.Histogram
	if err := json.Unmarshal([]byte(`{"bounds":["inf"]}`), &bad); err == nil {
		t.Error(`json.Unmarshal({"bounds":["inf"]}) = nil; want an error`)
	}
	if _, err := json.Marshal(schedstats.Histogram{Bounds: []float64{math.NaN()}}); err == nil {
		t.Error("json.Marshal(NaN bound) = nil; want an error")
	}
}

// FuzzHistogramJSON feeds histograms as an agent could send them: decoding
// never panics, and on whatever decodes the quantile rule never panics and
// answers within the histogram's bounds (or NaN).
func FuzzHistogramJSON(f *testing.F) {
	f.Add([]byte(`{"bounds":["-Inf",0,0.000001,"+Inf"],"counts":[0,3,4]}`), 0.99)
	f.Add([]byte(`{"bounds":[0,1,2],"counts":[5,0,7,9]}`), 0.5)
	f.Add([]byte(`{"bounds":[2,1,"-Inf"],"counts":[1,1]}`), 1.0)
	f.Add([]byte(`{"bounds":[],"counts":[18446744073709551615,18446744073709551615]}`), 0.0)
	f.Fuzz(func(t *testing.T, data []byte, q float64) {
		var h schedstats.Histogram
		if json.Unmarshal(data, &h) != nil {
			return
		}
		lo, hi := h.QuantileBucket(q)
		v := h.Quantile(q)
		_ = h.Sub(h)
		if math.IsNaN(v) {
			return
		}
		if v != lo && v != hi {
			t.Errorf("Quantile(%v) = %v; want one of its bucket's bounds %v, %v", q, v, lo, hi)
		}
		if _, err := json.Marshal(h); err != nil && !strings.Contains(err.Error(), "NaN") {
			t.Errorf("json.Marshal(decoded histogram) = %v", err)
		}
	})
}
