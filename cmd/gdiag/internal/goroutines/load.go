package goroutines

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/gdiag/gdiag/gdump"
)

// ErrEmpty is wrapped by the error for a dump with no goroutine in it.
var ErrEmpty = errors.New("no goroutines in the dump (empty input)")

// saveHint says how to get a dump gdiag can read.
const saveHint = "check that the file is a complete goroutine dump: debug=2 (gdiag goroutines TARGET --save FILE, or /debug/pprof/goroutine?debug=2), or a panic's or SIGQUIT's output"

// Bounds on what gdiag reads, so that a hostile or endless input ends in
// an error instead of taking the machine's memory.
const (
	// DefaultMaxSize is --max-size's default: a dump of a million
	// goroutines of ordinary depth is about 1.5 GB.
	DefaultMaxSize = 4 << 30
	// maxGroupBytes bounds the memory the groups of one dump take, as
	// gdump.Grouper estimates it. Real dumps take a few MB (a thousand
	// groups of 50 frames: 8 MB); only input made to defeat grouping
	// gets near it.
	maxGroupBytes = 64 << 20
)

// loaded is a dump read and grouped.
type loaded struct {
	source string
	dump   *gdump.Dump
	c      *collector
}

func (l *loaded) report() Report { return l.c.report(l.source, l.dump) }

// isFile reports whether arg names a dump to read rather than a target:
// "-" (stdin) or an existing regular file.
func isFile(arg string) bool {
	if arg == "-" {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular()
}

// load reads the dump arg names: a file, stdin, or a live target's
// debug=2 dump (saved to save when not empty), grouped with o's filters.
func load(ctx context.Context, env *cli.Env, arg, save string, o Options, maxSize int64, maxPause time.Duration) (*loaded, error) {
	if isFile(arg) {
		if save != "" {
			return nil, cli.Usagef("--save copies a live target's dump; %s is already a file", arg)
		}
		return loadFile(ctx, arg, o, maxSize)
	}
	if missingFile(arg) {
		return nil, cli.Errorf(cli.ExitInput, "give an existing dump FILE, or a TARGET (gdiag ps lists the live agents)",
			"%s: no such file, and not a PID, HOST:PORT or URL", arg)
	}
	t, err := target.Open(ctx, env, arg)
	if err != nil {
		return nil, err
	}
	body, err := t.GoroutineDumpPause(ctx, maxPause)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if save == "" {
		return read(ctx, t.String(), body, cli.ExitRemote, o, maxSize)
	}
	f, err := os.Create(save)
	if err != nil {
		return nil, cli.Errorf(cli.ExitUsage, "give --save a path in a writable directory", "%v", err)
	}
	defer f.Close()
	l, err := read(ctx, t.String(), io.TeeReader(body, f), cli.ExitRemote, o, maxSize)
	if err == nil {
		if err = f.Close(); err != nil {
			err = cli.Errorf(cli.ExitUsage, "check the disk space and permissions of "+save, "saving the dump: %v", err)
		}
	}
	return l, err
}

// missingFile reports whether arg can only be meant as a file (it is not a
// PID, URL or HOST:PORT) and does not exist, so that a mistyped file name
// is not reported as a bad target.
func missingFile(arg string) bool {
	if _, err := os.Stat(arg); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if _, err := strconv.Atoi(arg); err == nil || strings.Contains(arg, "://") {
		return false
	}
	_, port, err := net.SplitHostPort(arg)
	return err != nil || port == ""
}

func loadFile(ctx context.Context, name string, o Options, maxSize int64) (*loaded, error) {
	if name == "-" {
		return read(ctx, "stdin", os.Stdin, cli.ExitInput, o, maxSize)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, cli.Input(name, err)
	}
	defer f.Close()
	return read(ctx, name, f, cli.ExitInput, o, maxSize)
}

// read reads and groups a dump from r, named name in messages. A dump
// that is not one, breaks a bound, or holds no goroutine is an error with
// exit code bad (cli.ExitInput for files, cli.ExitRemote for a target's
// answer); a read error, such as a target's timeout, is passed through.
// For a crash report without goroutines it returns the loaded dump too,
// so that the report can still be shown.
func read(ctx context.Context, name string, r io.Reader, bad int, o Options, maxSize int64) (*loaded, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); bytes.HasPrefix(head, []byte("goroutine profile: total ")) {
		return nil, &cli.Error{Code: bad, Hint: saveHint,
			Err: fmt.Errorf("%s: a debug=1 goroutine profile (counts and PCs only), not a debug=2 dump with states and stacks", name)}
	} else if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		return nil, &cli.Error{Code: bad, Hint: saveHint,
			Err: fmt.Errorf("%s: gzip-compressed data (a binary pprof profile?), not a text goroutine dump", name)}
	}
	c := newCollector(o, maxGroupBytes)
	er := &errReader{r: &ctxReader{ctx: ctx, r: br}}
	d, err := scan(ctx, er, gdump.Options{MaxBytes: maxSize}, c.add)
	switch {
	case ctx.Err() != nil:
		return nil, &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted while reading %s", name)}
	case er.err != nil:
		if ce := (*cli.Error)(nil); errors.As(er.err, &ce) {
			return nil, er.err // a target's timeout or broken connection
		}
		return nil, &cli.Error{Code: bad, Err: fmt.Errorf("reading %s: %w", name, er.err)}
	case errors.Is(err, gdump.ErrLimit):
		return nil, &cli.Error{Code: bad, Err: fmt.Errorf("%s: %w", name, err),
			Hint: "a goroutine dump has short lines and is at most a few GB; if this one is real, raise --max-size"}
	case errors.Is(err, gdump.ErrTooManyGroups):
		return nil, &cli.Error{Code: bad, Hint: saveHint,
			Err: fmt.Errorf("%s: more distinct stacks than fit in %d MB after %d goroutines: not a goroutine dump, or a hostile one", name, c.all.MaxBytes>>20, d.Count)}
	case err != nil:
		return nil, &cli.Error{Code: bad, Err: fmt.Errorf("%s: %w", name, err)}
	}
	l := &loaded{source: name, dump: d, c: c}
	if d.Count > 0 {
		return l, nil
	}
	switch {
	case d.Crash != nil && d.Level != gdump.LevelNone:
		return l, nil // the crash report is the whole answer: no goroutine was left to print
	case d.Crash != nil:
		return l, &cli.Error{Code: bad, Hint: "run the program with GOTRACEBACK=all (or single, the default) to have the goroutines printed",
			Err: fmt.Errorf("%s: no goroutine in the dump: the runtime printed the crash report alone (GOTRACEBACK=none)", name)}
	case len(d.Problems) > 0:
		p := d.Problems[0]
		return nil, &cli.Error{Code: bad, Hint: saveHint, Err: fmt.Errorf("%s: line %d: %s: %q", name, p.Line, p.Msg, p.Text)}
	case d.Lines > 0:
		return nil, &cli.Error{Code: bad, Hint: saveHint, Err: fmt.Errorf("%s: line 1: no goroutine header found in %s", name, plural(d.Lines, "line"))}
	}
	return nil, &cli.Error{Code: bad, Hint: saveHint, Err: fmt.Errorf("%s: %w", name, ErrEmpty)}
}

// scan runs gdump.Scan and returns when it ends or when ctx does,
// whichever is first: a read blocked on a silent pipe cannot be
// interrupted, so on SIGINT or SIGTERM the command returns without
// waiting for it (the process exits; ctxReader stops the scan at its
// next read otherwise).
func scan(ctx context.Context, r io.Reader, o gdump.Options, fn func(*gdump.Goroutine) error) (*gdump.Dump, error) {
	type result struct {
		d   *gdump.Dump
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := gdump.Scan(r, o, fn)
		done <- result{d, err}
	}()
	select {
	case res := <-done:
		return res.d, res.err
	case <-ctx.Done():
		return &gdump.Dump{}, ctx.Err()
	}
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errReader remembers the first read error, which gdump.Scan returns
// as is, so that its exit code and hint are kept.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// Analyze prints the goroutine dump read from r (named name in messages)
// as gdiag goroutines FILE does with default options, in JSON when
// env.JSON. A garbage or empty dump, or one without goroutines, is an
// error with exit code cli.ExitInput that says what was wrong. gdiag
// analyze calls it.
func Analyze(ctx context.Context, env *cli.Env, name string, r io.Reader) error {
	l, err := read(ctx, name, r, cli.ExitInput, Options{}, DefaultMaxSize)
	return show(env, l, err, Options{})
}

// show prints the report of l, as JSON when env.JSON, and returns err:
// a crash report without goroutines is shown before its error.
func show(env *cli.Env, l *loaded, err error, o Options) error {
	if l == nil {
		return err
	}
	r := l.report()
	var perr error
	if env.JSON {
		perr = env.PrintJSON(r)
	} else if r.TotalGoroutines == 0 {
		bw := bufio.NewWriter(env.Stdout)
		writeCrash(bw, r.Source, r.Crash, o.Depth)
		perr = bw.Flush()
	} else {
		perr = r.WriteText(env.Stdout, o)
	}
	return cmp.Or(err, perr)
}
