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
