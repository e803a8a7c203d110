package profile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

func TestAnalyze(t *testing.T) {
	profiles := realProfiles(t)
	var plain bytes.Buffer
	zr, err := gzip.NewReader(bytes.NewReader(profiles["heap"]))
	if err != nil {
		t.Fatal(err)
	}
	plain.ReadFrom(zr)
	cases := []struct {
		name string
		data []byte
		code int    // 0 for success
		want string // in stdout on success
	}{
		{"cpu.pb.gz", profiles["cpu"], 0, "cpu.pb.gz: cpu"},
		{"heap.pb.gz", profiles["heap"], 0, "heap.pb.gz: inuse_space"},
		{"heap.pb", plain.Bytes(), 0, "inuse_space"},
		{"allocs.pb.gz", profiles["allocs"], 0, "alloc_space"},
		{"empty", nil, cli.ExitInput, ""},
		{"garbage", []byte("this is not a profile\x00\x01"), cli.ExitInput, ""},
		{"truncated", profiles["cpu"][:len(profiles["cpu"])/2], cli.ExitInput, ""},
		{"bad gzip", []byte("\x1f\x8b\x08garbage"), cli.ExitInput, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Analyze(&cli.Env{Stdout: &out, Stderr: &out}, c.name, bytes.NewReader(c.data))
			var ce *cli.Error
			switch {
			case c.code == 0 && err != nil:
				t.Fatalf("Analyze(%s) = %v; want nil", c.name, err)
			case c.code != 0 && (!errors.As(err, &ce) || ce.Code != c.code):
				t.Fatalf("Analyze(%s) = %v; want a cli.Error with code %d", c.name, err, c.code)
			case c.code == 0 && !strings.Contains(out.String(), c.want):
				t.Errorf("Analyze(%s) printed %q; want it to contain %q", c.name, out.String(), c.want)
			}
		})
	}
}

// FuzzAnalyze feeds Analyze real profiles, garbage and their mutations:
// it must never panic, and every failure must be an input error (exit 5).
func FuzzAnalyze(f *testing.F) {
	for _, data := range realProfiles(f) {
		f.Add(data)
		f.Add(data[:len(data)/3])
	}
	var syn bytes.Buffer
	if err := synthetic().Write(&syn); err != nil {
		f.Fatal(err)
	}
	f.Add(syn.Bytes())
	f.Add([]byte{})
	f.Add([]byte("--- contention:\ncycles/second=1000\n"))
	f.Add([]byte("heap profile: 1: 2 [3: 4] @ heap/1048576\n"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		for _, js := range []bool{false, true} {
			err := Analyze(&cli.Env{Stdout: &out, Stderr: &out, JSON: js}, "fuzz", bytes.NewReader(data))
			var ce *cli.Error
			if err != nil && (!errors.As(err, &ce) || ce.Code != cli.ExitInput) {
				t.Fatalf("Analyze(%q) = %v; want nil or an input error", data, err)
			}
		}
	})
}
