package goroutines

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/gdiag/gdiag/gdump"
)

// ErrEmpty is wrapped by the error for a dump with no goroutine in it.
var ErrEmpty = errors.New("no goroutines in the dump (empty input)")

// saveHint says how to get a dump gdiag can read.
const saveHint = "check that the file is a complete goroutine dump: debug=2 (gdiag goroutines TARGET --save FILE, or /debug/pprof/goroutine?debug=2), or a panic's or SIGQUIT's output"

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
// debug=2 dump (saved to save when not empty).
func load(ctx context.Context, env *cli.Env, arg, save string) ([]gdump.Goroutine, error) {
	if isFile(arg) {
		if save != "" {
			return nil, cli.Usagef("--save copies a live target's dump; %s is already a file", arg)
		}
		return loadFile(arg)
	}
	if missingFile(arg) {
		return nil, cli.Errorf(cli.ExitInput, "give an existing dump FILE, or a TARGET (gdiag ps lists the live agents)",
			"%s: no such file, and not a PID, HOST:PORT or URL", arg)
	}
	t, err := target.Open(ctx, env, arg)
	if err != nil {
		return nil, err
	}
	body, err := t.GoroutineDump(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var r io.Reader = body
	if save != "" {
		f, err := os.Create(save)
		if err != nil {
			return nil, cli.Errorf(cli.ExitUsage, "give --save a path in a writable directory", "%v", err)
		}
		defer f.Close()
		r = io.TeeReader(body, f)
		gs, err := parse(t.String(), r, cli.ExitRemote)
		if err == nil {
			if err = f.Close(); err != nil {
				err = cli.Errorf(cli.ExitUsage, "check the disk space and permissions of "+save, "saving the dump: %v", err)
			}
		}
		return gs, err
	}
	return parse(t.String(), r, cli.ExitRemote)
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

func loadFile(name string) ([]gdump.Goroutine, error) {
	if name == "-" {
		return parse("stdin", os.Stdin, cli.ExitInput)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, cli.Input(name, err)
	}
	defer f.Close()
	return parse(name, f, cli.ExitInput)
}

// parse reads a dump from r. A malformed dump is an error with exit code
// bad (cli.ExitInput for files, cli.ExitRemote for a target's answer);
// a read error, such as a target's timeout, is passed through.
func parse(name string, r io.Reader, bad int) ([]gdump.Goroutine, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(64); bytes.HasPrefix(head, []byte("goroutine profile: total ")) {
		return nil, &cli.Error{Code: bad, Hint: saveHint,
			Err: fmt.Errorf("%s: a debug=1 goroutine profile (counts and PCs only), not a debug=2 dump with states and stacks", name)}
	} else if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		return nil, &cli.Error{Code: bad, Hint: saveHint,
			Err: fmt.Errorf("%s: gzip-compressed data (a binary pprof profile?), not a text goroutine dump", name)}
	}
	er := &errReader{r: br}
	gs, err := gdump.Parse(er)
	switch {
	case er.err != nil:
		if ce := (*cli.Error)(nil); errors.As(er.err, &ce) {
			return nil, er.err // a target's timeout or broken connection
		}
		return nil, &cli.Error{Code: bad, Err: fmt.Errorf("reading %s: %w", name, er.err)}
	case err != nil:
		return nil, &cli.Error{Code: bad, Hint: saveHint, Err: fmt.Errorf("%s: %w", name, err)}
	case len(gs) == 0:
		return nil, &cli.Error{Code: bad, Hint: saveHint, Err: fmt.Errorf("%s: %w", name, ErrEmpty)}
	}
	return gs, nil
}

// errReader remembers the first read error, which gdump.Parse would
// report as a syntax error, losing its exit code and hint.
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
// env.JSON. A truncated, garbage or empty dump is an error with exit code
// cli.ExitInput that gives the line at fault. gdiag analyze calls it.
func Analyze(env *cli.Env, name string, r io.Reader) error {
	gs, err := parse(name, r, cli.ExitInput)
	if err != nil {
		return err
	}
	rep := NewReport(name, gs, Options{})
	if env.JSON {
		return env.PrintJSON(rep)
	}
	return rep.WriteText(env.Stdout, Options{})
}
