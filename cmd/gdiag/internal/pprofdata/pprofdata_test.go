package pprofdata_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/pprofdata"
	"github.com/gdiag/gdiag/internal/hostile"
)

// heapProfile is this process's heap profile, gzipped as pprof writes it.
func heapProfile(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&b, 0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadRealProfile(t *testing.T) {
	raw := heapProfile(t)
	for name, data := range map[string][]byte{"gzipped": raw, "plain": gunzip(t, raw)} {
		got, p, err := pprofdata.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Read(%s heap profile) = %v", name, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("Read(%s) returned %d bytes; want the %d read", name, len(got), len(data))
		}
		if len(p.SampleType) != 4 || p.SampleType[3].Type != "inuse_space" {
			t.Errorf("Read(%s) sample types %v; want the heap profile's four", name, p.SampleType)
		}
	}
}

// TestHostile checks that bombs and garbage end in a clear error.
func TestHostile(t *testing.T) {
	big := make([]byte, pprofdata.MaxBytes+1)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"256 MiB in one member", hostile.GzipBomb(256 << 20), "inflate to more than 128 MB"},
		{"members", hostile.GzipMembers(1<<20, 16<<20), "inflate to more than 128 MB"},
		{"gzip in gzip", gz(gz([]byte("x"))), "gzip data inside gzip data"},
		{"gzip bomb in gzip", gz(hostile.GzipBomb(256 << 20)), "gzip data inside gzip data"},
		{"truncated gzip", heapProfile(t)[:100], "bad gzip data"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, "bad gzip data"},
		{"too large", big, "more than 128 MB"},
		{"garbage", []byte("\x0a\xff\xff\xff\xff\x0f not a profile"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := pprofdata.Read(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read(%s) = %v; want an error with %q", c.name, err, c.want)
			}
			if strings.Contains(c.want, "MB") && !errors.Is(err, pprofdata.ErrTooLarge) {
				t.Errorf("Read(%s) = %v; want ErrTooLarge", c.name, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	raw := heapProfile(f)
	f.Add(raw)
	f.Add(gunzip(f, raw))
	f.Add(raw[:len(raw)/2])
	f.Add(gz(gz([]byte("x"))))
	f.Add([]byte("heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1 0x2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = pprofdata.Parse(data) // must not panic or hang
	})
}
