package sched

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"golang.org/x/term"
)

// Escape sequences of the live view (xterm's, which every terminal gdiag
// is likely to meet understands).
const (
	enterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J" // alternate screen, hide cursor, clear
	leaveScreen = "\x1b[?25h\x1b[?1049l"              // show cursor, normal screen
	home        = "\x1b[H"
	clearEOL    = "\x1b[K"
	clearEOS    = "\x1b[J"
)

// screen is where the live view draws and reads keys.
type screen struct {
	out    io.Writer
	outFd  int
	outTTY bool     // draw in place on the alternate screen
	in     *os.File // read keys from it in raw mode; nil for none
}

// newScreen looks at what stdout and stdin are.
func newScreen(out io.Writer, in *os.File) *screen {
	s := &screen{out: out, outFd: -1}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.outFd, s.outTTY = int(f.Fd()), true
	}
	if in != nil && term.IsTerminal(int(in.Fd())) {
		s.in = in
	}
	return s
}

// size returns the frame's width and height: the terminal's, or 80 columns
// and no height limit when stdout is not a terminal.
func (s *screen) size() (w, h int) {
	if !s.outTTY {
		return 80, 0
	}
	w, h, err := term.GetSize(s.outFd)
	if err != nil || w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

// draw replaces the screen's content with lines, or, off a terminal,
// prints them followed by a blank line.
func (s *screen) draw(lines []string) error {
	var err error
	if s.outTTY {
		// Raw mode turns off the tty's newline translation: end lines with \r\n.
		_, err = io.WriteString(s.out, home+strings.Join(lines, clearEOL+"\r\n")+clearEOL+clearEOS)
	} else {
		_, err = io.WriteString(s.out, strings.Join(lines, "\n")+"\n\n")
	}
	return err
}

// live runs the view until q, Ctrl-C, ctx's end, o.count frames or an
// error, and leaves the terminal as it found it on each of these paths.
func live(ctx context.Context, sc *screen, src source, h *history, name string, o options) error {
	if sc.outTTY {
		if _, err := io.WriteString(sc.out, enterScreen); err != nil {
			return err
		}
		defer io.WriteString(sc.out, leaveScreen)
	}
	ev := &events{quit: "Ctrl-C quits"}
	if sc.in != nil {
		keys, stop, err := readKeys(sc.in)
		if err == nil {
			defer stop()
			ev.keys, ev.quit = keys, "q quits"
		}
	}
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	var status string
	for n := 1; ; n++ {
		w, ht := sc.size()
		opts := frameOpts{Target: name, Width: w, Height: ht, Refresh: o.interval, Quit: ev.quit, Status: status}
		if err := sc.draw(frame(h, opts)); err != nil {
			return err
		}
		if o.count > 0 && n >= o.count || ev.waitTick(ctx, tick.C) {
			return nil
		}
		s, quit, err := ev.fetch(ctx, src)
		switch {
		case quit || ctx.Err() != nil:
			return nil
		case err == nil:
			h.add(s)
			status = ""
		case cli.ExitCode(err) == cli.ExitTimeout:
			// A stalled target may recover (a long GC, a burst of load):
			// say so and keep trying rather than leave.
			status = "! " + err.Error() + "; retrying"
		case cli.ExitCode(err) == cli.ExitTarget, cli.ExitCode(err) == cli.ExitUnreachable:
			return cli.Errorf(cli.ExitTarget, "the process exited or closed its agent; gdiag ps lists the live agents",
				"lost %s during the live view: %v", name, err)
		default:
			return err
		}
	}
}
