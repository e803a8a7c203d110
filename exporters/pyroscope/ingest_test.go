package pyroscope_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/pprof/profile"
)

// ingest is a fake Pyroscope /ingest endpoint that decodes every pushed
// pprof profile.
type ingest struct {
	srv *httptest.Server

	mu       sync.Mutex
	names    []string
	profiles []*profile.Profile
	errs     []error
}

func newIngest(t *testing.T) *ingest {
	t.Helper()
	in := &ingest{}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *ingest) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/ingest" {
		http.NotFound(w, r)
		return
	}
	p, err := decodeUpload(r)
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil {
		in.errs = append(in.errs, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.names = append(in.names, r.URL.Query().Get("name"))
	in.profiles = append(in.profiles, p)
}

func decodeUpload(r *http.Request) (*profile.Profile, error) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, err
	}
	f, _, err := r.FormFile("profile")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return profile.ParseData(data)
}

// cpuProfiles returns the CPU profiles received so far.
func (in *ingest) cpuProfiles() []*profile.Profile {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []*profile.Profile
	for _, p := range in.profiles {
		if isCPU(p) {
			out = append(out, p)
		}
	}
	return out
}

func (in *ingest) decodeErrors() []error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]error(nil), in.errs...)
}

func (in *ingest) uploadNames() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.names...)
}

func isCPU(p *profile.Profile) bool {
	for _, st := range p.SampleType {
		if st.Type == "cpu" {
			return true
		}
	}
	return false
}

// hasLabel reports whether a sample of p carries the pprof label key=value.
func hasLabel(p *profile.Profile, key, value string) bool {
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			if v == value {
				return true
			}
		}
	}
	return false
}
