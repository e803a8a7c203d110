package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pprofdata"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/google/pprof/profile"
)

// captured is a profile as received (data) and parsed (prof).
type captured struct {
	data  []byte
	prof  *profile.Profile
	delta bool // what happened during the capture only
}

// capture fetches the profile name from t, showing progress during d.
func capture(ctx context.Context, env *cli.Env, t *target.Target, name string, d time.Duration) (captured, error) {
	stop := Progress(env.Stderr, "capturing "+name+" profile", d)
	defer stop()
	if d > 0 && t.Kind == target.KindAgent && name != "cpu" && name != "wall" {
		// The agent serves heap, allocs, mutex and block only as they are
		// now; the delta is the difference of two of them, as
		// net/http/pprof computes it with ?seconds=.
		return captureDelta(ctx, t, name, d)
	}
	data, p, err := fetch(ctx, t, name, d)
	if err != nil {
		return captured{}, err
	}
	// net/http/pprof answers ?seconds= for these with a delta profile.
	delta := d > 0 && name != "cpu" && name != "wall" && p.DurationNanos > 0
	return captured{data: data, prof: p, delta: delta}, nil
}

func fetch(ctx context.Context, t *target.Target, name string, d time.Duration) ([]byte, *profile.Profile, error) {
	body, err := t.Profile(ctx, name, d, 0)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	rec := &target.Recorder{R: body}
	data, p, err := pprofdata.Read(rec)
	if rec.Err != nil {
		return nil, nil, rec.Err // the connection failed or timed out
	}
	if errors.Is(err, pprofdata.ErrTooLarge) {
		return nil, nil, cli.Errorf(cli.ExitRemote, fmt.Sprintf("gdiag reads profiles of up to %d MB, as sent and once inflated; is TARGET the service you meant?", pprofdata.MaxBytes>>20),
			"%s sent a %s profile gdiag will not read: %v", t, name, err)
	}
	if err != nil {
		return nil, nil, cli.Errorf(cli.ExitRemote, "is TARGET a Go service? its /debug/pprof/ should serve the runtime's profiles",
			"%s sent a %s profile gdiag cannot read: %v", t, name, err)
	}
	return data, p, nil
}

func captureDelta(ctx context.Context, t *target.Target, name string, d time.Duration) (captured, error) {
	_, p0, err := fetch(ctx, t, name, 0)
	if err != nil {
		return captured{}, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return captured{}, &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted while capturing the %s profile of %s", name, t)}
	case <-timer.C:
	}
	_, p1, err := fetch(ctx, t, name, 0)
	if err != nil {
		return captured{}, err
	}
	p0.Scale(-1)
	p, err := profile.Merge([]*profile.Profile{p0, p1})
	if err != nil {
		return captured{}, cli.Errorf(cli.ExitRemote, "retry; the process may have changed its mappings between the two profiles",
			"%s: cannot subtract two %s profiles: %v", t, name, err)
	}
	p.TimeNanos, p.DurationNanos = p1.TimeNanos, d.Nanoseconds()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return captured{}, err
	}
	return captured{data: buf.Bytes(), prof: p, delta: true}, nil
}

// withSampleType returns c's data with the profile's default sample type
// set to st, the one gdiag showed, so that go tool pprof and gdiag
// analyze open the saved file on the same figures: net/http/pprof's delta
// profiles name none, and pprof then defaults to the last (inuse_space
// for allocs, where alloc_space was shown).
func withSampleType(c captured, st string) ([]byte, error) {
	if st == "" || c.prof.DefaultSampleType == st {
		return c.data, nil
	}
	if c.prof.DefaultSampleType == "" && c.prof.SampleType[len(c.prof.SampleType)-1].Type == st {
		return c.data, nil // pprof's default already
	}
	c.prof.DefaultSampleType = st
	var buf bytes.Buffer
	if err := c.prof.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes data to out, or when out is empty to base+ext in the
// current directory, adding -1, -2... to base rather than overwrite a file.
// It returns the path written.
func Save(out, base, ext string, data []byte) (string, error) {
	f, path, err := Create(out, base, ext)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", cli.Errorf(cli.ExitUsage, "check the free space, or give --out", "saving to %s: %v", path, err)
	}
	return path, nil
}

// Create opens the file Save would write, for a capture written as it
// arrives; the caller closes it.
func Create(out, base, ext string) (*os.File, string, error) {
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, "", cli.Errorf(cli.ExitUsage, "choose a writable path with --out", "saving to %s: %v", out, err)
		}
		return f, out, nil
	}
	for i := 0; ; i++ {
		path := base + ext
		if i > 0 {
			path = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return nil, "", cli.Errorf(cli.ExitUsage, "run gdiag in a writable directory, or give --out", "saving to %s: %v", path, err)
		}
		return f, path, nil
	}
}

// BaseName is <label>-<what>-<time>, the default file name of a capture
// from t without its extension.
func BaseName(t *target.Target, what string) string {
	return fmt.Sprintf("%s-%s-%s", Label(t), what, time.Now().Format("20060102-150405"))
}

// Label names t in file names: its PID when known, else its host and
// port, else the socket's file name, with only [A-Za-z0-9._-] kept.
func Label(t *target.Target) string {
	if t.PID != 0 {
		return strconv.Itoa(t.PID)
	}
	s := t.Spec
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		s = u.Host
	} else if _, _, err := net.SplitHostPort(s); err != nil {
		s = strings.TrimSuffix(filepath.Base(s), filepath.Ext(s))
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
	if s == "" || s == "." || s == ".." {
		return "target"
	}
	return s
}
