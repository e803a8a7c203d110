package hostile

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// inflated counts what b inflates to, every member, checking each
// member's CRC and length.
func inflated(t *testing.T, b []byte) int64 {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatalf("inflating: %v after %d bytes", err, n)
	}
	return n
}

func TestGzipBomb(t *testing.T) {
	// Inflating is slow under -race: check 97 MiB, and the size of 1 GiB.
	b := GzipBomb(96 << 20)
	if n := inflated(t, b); n != 97<<20 || len(b) > 120<<10 {
		t.Errorf("GzipBomb(96 MiB) = %d bytes inflating to %d; want under 120 KB inflating to 97 MiB", len(b), n)
	}
	if b := GzipBomb(1 << 30); len(b) > 1<<20+64<<10 {
		t.Errorf("GzipBomb(1 GiB) = %d bytes; want about 1 MB", len(b))
	}
	if n := inflated(t, GzipBomb(0)); n != lead {
		t.Errorf("GzipBomb(0) inflates to %d; want %d", n, lead)
	}
}

func TestGzipMembers(t *testing.T) {
	one := GzipBomb(17 << 20)
	m := GzipMembers(5*len(one), 17<<20)
	if n := inflated(t, m); n != 5*17<<20 {
		t.Errorf("GzipMembers(5 members of 17 MiB) inflates to %d bytes; want %d", n, 5*17<<20)
	}
}
