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

// runtimeLikeHistogram has the shape of runtime/metrics' time histograms:
// about 160 buckets with infinite outer bounds.
func runtimeLikeHistogram() schedstats.Histogram {
	h := schedstats.Histogram{Bounds: []float64{math.Inf(-1)}}
	for b := 1e-9; b < 1e3; b *= 1.15 {
		h.Bounds = append(h.Bounds, b)
	}
	h.Bounds = append(h.Bounds, math.Inf(1))
	h.Counts = make([]uint64, len(h.Bounds)-1)
	for i := range h.Counts {
		h.Counts[i] = uint64(i * i)
	}
	return h
}

// TestHistogramJSONMatchesEncodingJSON: the histogram writes its numbers
// as encoding/json writes float64 and uint64, byte for byte, whatever
// their size.
func TestHistogramJSONMatchesEncodingJSON(t *testing.T) {
	h := runtimeLikeHistogram()
	h.Bounds = append(h.Bounds[:len(h.Bounds)-1], 1e21, 1.5e-7, 123456789.125, 0, math.Inf(1))
	h.Counts = append(h.Counts, 0, math.MaxUint64, 7, 1)
	got, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString(`{"bounds":[`)
	for i, b := range h.Bounds {
		if i > 0 {
			want.WriteByte(',')
		}
		switch {
		case math.IsInf(b, -1):
			want.WriteString(`"-Inf"`)
		case math.IsInf(b, 1):
			want.WriteString(`"+Inf"`)
		default:
			n, _ := json.Marshal(b)
			want.Write(n)
		}
	}
	c, _ := json.Marshal(h.Counts)
	want.WriteString(`],"counts":` + string(c) + `}`)
	if string(got) != want.String() {
		t.Errorf("json.Marshal(Histogram) =\n%s\nwant\n%s", got, want.String())
	}
}

func BenchmarkHistogramMarshalJSON(b *testing.B) {
	h := runtimeLikeHistogram()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(h); err != nil {
			b.Fatal(err)
		}
	}
}
