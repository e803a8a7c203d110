package pprofdata

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/google/pprof/profile"
)

// MaxBytes bounds a profile as read and as inflated. Real profiles are far
// smaller (a heap profile of a large service is a few MB inflated); the
// bound keeps gdiag within about three times this much memory on any
// input.
const MaxBytes = 128 << 20

// ErrTooLarge reports data beyond MaxBytes, as read or once inflated.
var ErrTooLarge = errors.New("profile too large")

// Read reads a profile from r, at most MaxBytes of it, and parses it. It
// returns the bytes as read, for saving, with the profile.
func Read(r io.Reader) ([]byte, *profile.Profile, error) {
	data, err := readAtMost(r, MaxBytes)
	if err != nil {
		return nil, nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, nil, err
	}
	return data, p, nil
}

// Parse parses a profile in any form pprof reads (gzipped or plain
// protobuf, or pprof's legacy text forms). Gzipped data is inflated here,
// all members of a multi-member stream together, up to MaxBytes. The
// parser is not gdiag's: should it panic on a malformed profile, the
// panic becomes an error.
func Parse(data []byte) (p *profile.Profile, err error) {
	if len(data) == 0 {
		return nil, errors.New("no data")
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: %d MB of data, more than %d MB", ErrTooLarge, len(data)>>20, MaxBytes>>20)
	}
	if isGzip(data) {
		if data, err = inflate(data); err != nil {
			return nil, err
		}
		if isGzip(data) {
			return nil, errors.New("gzip data inside gzip data: not a profile (pprof writes one gzip layer)")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("malformed profile (the parser failed: %v)", r)
		}
	}()
	return profile.ParseData(data)
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// inflate gunzips data, every member of it, up to MaxBytes.
func inflate(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("bad gzip data: %w", err)
	}
	out, err := readAtMost(zr, MaxBytes)
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("%w: %d bytes of gzip data inflate to more than %d MB (a decompression bomb, or not a profile)", ErrTooLarge, len(data), MaxBytes>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("bad gzip data: %w", err)
	}
	return out, nil
}

// readAtMost reads r to its end, failing with ErrTooLarge past max bytes.
func readAtMost(r io.Reader, max int) ([]byte, error) {
	// io.ReadAll grows its buffer by a quarter at a time once large,
	// where a bytes.Buffer doubles: the peak stays near 2.25 × max.
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	switch {
	case err != nil:
		return nil, err
	case len(b) > max:
		return nil, fmt.Errorf("%w: more than %d MB", ErrTooLarge, max>>20)
	}
	return b, nil
}
