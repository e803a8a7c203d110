package gdump

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
)

// mode is what the scanner is reading.
type mode uint8

const (
	outside        mode = iota // between goroutines: log lines, a crash report's start
	inCrash                    // a crash report, after its first line
	inRuntimeStack             // the frames after "runtime stack:"
	inGoroutine                // a goroutine's stack
)

// target is the frame the next location line completes.
type target uint8

const (
	noTarget         target = iota
	frameTarget             // the last of scanner.frames
	droppedTarget           // a frame beyond MaxFrames
	createdTarget           // scanner.g.CreatedBy
	ancestorTarget          // the last frame of the last ancestor
	ancCreatedTarget        // the last ancestor's CreatedBy
	runtimeTarget           // the last frame of the crash report's runtime stack
)

// Bounds on what a crash report keeps from hostile input.
const (
	maxNotes   = 32
	maxMessage = 64 << 10
	maxIntern  = 1 << 16 // strings interned; more are allocated per use
)

type scanner struct {
	o    Options
	in   *bufio.Reader
	src  *countReader
	fn   func(*Goroutine) error
	keep bool // Read: goroutines stay in d.Goroutines, frames in an arena
	d    Dump
	line int
	long []byte // a line longer than in's buffer

	intern map[string]string

	mode    mode
	g       Goroutine // the goroutine being read
	target  target
	guess   bool // the pending frame had no argument list: a cgo frame only if a "pc=" location follows
	created bool // g's "created by" line was seen
	// The current goroutine's frames and arguments are collected here and
	// moved out when it ends, so that each goroutine costs one string for
	// all its arguments and a slice of a shared frame arena, instead of
	// one allocation per frame and a map entry per (unique) argument list.
	frames []Frame
	args   []byte
	spans  []argSpan
	arena  []Frame

	block       *Crash   // the crash report being read, or the last one
	blockOpen   bool     // block ended just before this line: a goroutine header attaches it
	afterCrash  bool     // g is the first goroutine after the crash report
	notes       []string // "runtime: " lines that may start a crash report
	noteLine    int      // the line of the last of notes
	sawSystem   bool     // a header with "gp=" or a frame with "fp=": GOTRACEBACK=system output
	lastStack   bool     // the last line read was part of a stack
	cur         []byte   // the line being read
	pendingLine []byte   // the line of the frame whose location is awaited
}

// argSpan locates a frame's arguments in scanner.args; start < 0 means
// the frame's Args is already set (to an interned common value).
type argSpan struct{ start, end int }

// The frame arena starts small, for the dumps of small processes, and
// doubles up to maxArena frames per allocation.
const minArena, maxArena = 256, 4096

func newScanner(r io.Reader, o Options, fn func(*Goroutine) error) *scanner {
	o = o.withDefaults()
	src := &countReader{r: r, max: o.MaxBytes}
	return &scanner{o: o, src: src, in: bufio.NewReaderSize(src, 64<<10), fn: fn, intern: make(map[string]string)}
}

// countReader counts the bytes read and fails past max (when max > 0).
type countReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errTooBig = errors.New("input too large")

func (c *countReader) Read(p []byte) (int, error) {
	if c.max > 0 && c.n > c.max {
		return 0, errTooBig
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (s *scanner) run() (*Dump, error) {
	for {
		b, err := s.readLine()
		if len(b) > 0 {
			s.line++
			s.d.Lines++
			nl := b[len(b)-1] == '\n'
			b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
			if herr := s.handle(b); herr != nil {
				return &s.d, herr
			}
			if !nl && s.lastStack {
				s.d.Truncated = true // cut in the middle of a stack's line
			}
		}
		switch {
		case err == io.EOF:
			return &s.d, s.finish()
		case errors.Is(err, errTooBig):
			return &s.d, &LimitError{What: "input", Limit: s.o.MaxBytes, Line: s.line + 1}
		case err != nil:
			return &s.d, err
		}
	}
}

// readLine returns the next line with its newline, if any.
func (s *scanner) readLine() ([]byte, error) {
	b, err := s.in.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], b...)
		for err == bufio.ErrBufferFull && len(s.long) <= s.o.MaxLine {
			b, err = s.in.ReadSlice('\n')
			s.long = append(s.long, b...)
		}
		b = s.long
	}
	if n := len(b) - len(bytes.TrimSuffix(b, []byte("\n"))); len(b)-n > s.o.MaxLine {
		return nil, &LimitError{What: "line", Limit: int64(s.o.MaxLine), Line: s.line + 1}
	}
	return b, err
}

// handle reads one line, without its line end.
func (s *scanner) handle(b []byte) error {
	s.lastStack, s.cur = false, b
	switch s.mode {
	case inGoroutine:
		done, err := s.goroutineLine(b)
		if done || err != nil {
			s.lastStack = s.mode == inGoroutine || s.target != noTarget
			return err
		}
	case inRuntimeStack:
		if s.runtimeStackLine(b) {
			return nil
		}
		s.mode = inCrash
		fallthrough
	case inCrash:
		if s.crashLine(b) {
			return nil
		}
		s.mode, s.blockOpen = outside, true
	}
	s.outsideLine(b)
	return nil
}

// finish completes what the input's end left open.
func (s *scanner) finish() error {
	if s.mode == inGoroutine {
		var pending []byte
		switch {
		case s.target == noTarget:
		case s.guess:
			pending = s.dropPending() // a line that was not a frame
		default:
			s.d.Truncated = true // a call without its location: keep it
			s.target = noTarget
		}
		if err := s.endGoroutine(); err != nil {
			return err
		}
		if pending != nil {
			s.outsideLine(pending)
		}
	}
	if s.d.Crash == nil && s.block != nil && s.d.Count == 0 {
		s.d.Crash = s.block // GOTRACEBACK=none: the report and no goroutine
	}
	s.d.Level = s.level()
	return nil
}

// noGoroutinesLeft starts the fatal error the runtime throws when main
// called runtime.Goexit and every other goroutine has exited.
const noGoroutinesLeft = "no goroutines (main called runtime.Goexit)"

// level infers the GOTRACEBACK level from what was printed.
func (s *scanner) level() Level {
	switch {
	case s.d.Crash == nil:
		return LevelUnknown
	case s.sawSystem:
		return LevelSystem
	case s.d.Count == 0 && strings.HasPrefix(s.d.Crash.Fatal, noGoroutinesLeft):
		// No goroutine was left to print, whatever the level.
		return LevelUnknown
	case s.d.Count == 0:
		return LevelNone
	case s.d.Count == 1 && s.d.Crash.Goroutine != nil:
		return LevelSingle
	}
	// More than one goroutine, or one that did not raise the crash: the
	// runtime printed them all, as it does for fatal errors it finds
	// itself (a deadlock) whatever GOTRACEBACK says.
	return LevelAll
}

// outsideLine reads a line that belongs to no goroutine or report yet.
func (s *scanner) outsideLine(b []byte) {
	if len(b) == 0 {
		return
	}
	open := s.blockOpen
	s.blockOpen = false
	switch {
	case isHeader(b):
		s.g = Goroutine{}
		if err := s.header(b, &s.g); err != nil {
			s.problem(b, err.Error())
			s.d.Other++
			return
		}
		s.mode, s.created = inGoroutine, false
		if open {
			s.attachBlock()
		}
	case isReportStart(b):
		s.startBlock(b)
	case bytes.HasPrefix(b, []byte("runtime: ")) || bytes.HasPrefix(b, []byte("unexpected fault address ")):
		if s.noteLine != s.line-1 {
			s.notes = s.notes[:0]
		}
		if len(s.notes) < maxNotes {
			s.notes = append(s.notes, string(b))
		}
		s.noteLine = s.line
		s.d.Other++
	default:
		if bytes.HasPrefix(b, []byte("goroutine ")) && bytes.Contains(b, []byte(" [")) {
			s.problem(b, "malformed goroutine header")
			s.lastStack = true
		}
		if isExit(b) && (string(b) != "FAIL" || !strings.HasPrefix(s.d.Exit, "FAIL\t")) {
			s.d.Exit = string(b) // go test's "FAIL\tpkg\t0.1s" says more than the "FAIL" after it
		}
		s.d.Other++
	}
}

// goroutineLine reads a line of the current goroutine. It returns false
// when the line is not part of it: the goroutine has then ended, and the
// line is for outsideLine.
func (s *scanner) goroutineLine(b []byte) (bool, error) {
	if s.target != noTarget {
		if isIndented(b) {
			if s.location(b) {
				return true, nil
			}
			if !s.guess {
				s.problem(b, "expected file:line")
				s.target = noTarget
				return true, nil
			}
		}
		// The pending line was not a frame after all: a log line.
		pending := s.dropPending()
		err := s.endGoroutine()
		s.outsideLine(pending)
		return false, err
	}
	g := &s.g
	switch {
	case len(b) == 0:
		return true, s.endGoroutine()
	case isIndented(b):
		if bytes.Contains(b, []byte("goroutine running on other thread; stack unavailable")) {
			g.Unavailable = true
		} else {
			s.problem(b, "indented line without a call before it")
		}
		return true, nil
	case isHeader(b) || isReportStart(b) || isExit(b) || string(b) == "-----":
		return false, s.endGoroutine()
	case string(b) == "...additional frames elided...":
		g.Elided = true
		return true, nil
	case bytes.HasPrefix(b, []byte("...")) && bytes.HasSuffix(b, []byte(" frames elided...")):
		g.Elided = true
		n, _ := digits(b[3:])
		g.ElidedFrames += int(min(parseUint(b[3:3+n]), 1<<31-1))
		return true, nil
	case bytes.HasPrefix(b, []byte("[originating from goroutine ")) && bytes.HasSuffix(b, []byte("]:")):
		id := b[len("[originating from goroutine ") : len(b)-2]
		if n, _ := digits(id); n == 0 || n != len(id) {
			return false, s.endGoroutine()
		}
		g.Ancestors = append(g.Ancestors, Ancestor{ID: parseUint(id)})
		s.created = true // a goroutine's own frames end before its ancestors
		return true, nil
	case bytes.HasPrefix(b, []byte("created by ")):
		if len(g.Ancestors) > 0 {
			a := &g.Ancestors[len(g.Ancestors)-1]
			a.CreatedBy = Frame{Func: s.str(b[len("created by "):])}
			s.pendingTarget(ancCreatedTarget, false)
			return true, nil
		}
		if s.created {
			return false, s.endGoroutine()
		}
		s.createdBy(b[len("created by "):], g)
		s.created = true
		s.pendingTarget(createdTarget, false)
		return true, nil
	case bytes.HasPrefix(b, []byte("non-Go function at pc=0x")):
		if len(s.frames) < s.o.MaxFrames {
			f := Frame{Func: "non-Go function"}
			f.PC, _ = parseHex(b[len("non-Go function at pc=0x"):])
			s.addFrame(f, nil)
		}
		return true, nil
	case s.created && len(g.Ancestors) == 0:
		return false, s.endGoroutine() // only ancestors follow "created by"
	}
	s.call(b)
	return true, nil
}

// pendingTarget waits for the location of a frame.
func (s *scanner) pendingTarget(t target, guess bool) {
	s.target, s.guess = t, guess
	s.pendingLine = append(s.pendingLine[:0], s.cur...)
}

// call reads "pkg.fn(0x1, 0x2)", or a cgo frame's bare symbol, as a frame
// whose location comes on the next line.
func (s *scanner) call(b []byte) {
	fn, args, paren := splitCall(b)
	g := &s.g
	if len(g.Ancestors) > 0 {
		a := &g.Ancestors[len(g.Ancestors)-1]
		if len(a.Frames) >= s.o.MaxFrames {
			s.pendingTarget(droppedTarget, !paren)
			return
		}
		a.Frames = append(a.Frames, Frame{Func: s.str(fn), Args: string(args)})
		s.pendingTarget(ancestorTarget, !paren)
		return
	}
	if len(s.frames) >= s.o.MaxFrames {
		s.pendingTarget(droppedTarget, !paren)
		return
	}
	s.addFrame(Frame{Func: s.str(fn)}, args)
	s.pendingTarget(frameTarget, !paren)
}

// addFrame appends f, with arguments args, to the current goroutine.
func (s *scanner) addFrame(f Frame, args []byte) {
	sp := argSpan{start: -1}
	switch string(args) {
	case "":
	case "...":
		f.Args = "..."
	default:
		sp = argSpan{len(s.args), len(s.args) + len(args)}
		s.args = append(s.args, args...)
	}
	s.frames = append(s.frames, f)
	s.spans = append(s.spans, sp)
}

// dropPending forgets the frame whose location did not come, and
// returns its line, which was not a frame.
func (s *scanner) dropPending() []byte {
	g := &s.g
	if !s.guess && s.target != droppedTarget {
		s.problem(s.pendingLine, "a call without its file:line")
	}
	switch s.target {
	case frameTarget:
		sp := s.spans[len(s.spans)-1]
		if sp.start >= 0 {
			s.args = s.args[:sp.start]
		}
		s.frames, s.spans = s.frames[:len(s.frames)-1], s.spans[:len(s.spans)-1]
	case createdTarget:
		g.CreatedBy, g.CreatorID, s.created = Frame{}, 0, false
	case ancestorTarget:
		a := &g.Ancestors[len(g.Ancestors)-1]
		a.Frames = a.Frames[:len(a.Frames)-1]
	case ancCreatedTarget:
		g.Ancestors[len(g.Ancestors)-1].CreatedBy = Frame{}
	}
	s.target = noTarget
	return s.pendingLine
}

// location reads the location line of the pending frame and reports
// whether it was one.
func (s *scanner) location(b []byte) bool {
	loc, ok := parseLocation(b)
	if !ok || s.guess && !loc.hasPC {
		return false
	}
	s.sawSystem = s.sawSystem || loc.hasFP
	var f *Frame
	switch s.target {
	case frameTarget:
		f = &s.frames[len(s.frames)-1]
	case droppedTarget:
		s.g.Elided = true
		s.g.ElidedFrames++
	case createdTarget:
		f = &s.g.CreatedBy
	case ancestorTarget:
		a := &s.g.Ancestors[len(s.g.Ancestors)-1]
		f = &a.Frames[len(a.Frames)-1]
	case ancCreatedTarget:
		f = &s.g.Ancestors[len(s.g.Ancestors)-1].CreatedBy
	case runtimeTarget:
		f = &s.block.RuntimeStack[len(s.block.RuntimeStack)-1]
	}
	if f != nil {
		f.File, f.Line, f.Offset, f.PC = s.str(loc.file), loc.line, loc.offset, loc.pc
	}
	s.target = noTarget
	return true
}

// endGoroutine completes the current goroutine and hands it on.
func (s *scanner) endGoroutine() error {
	if s.mode != inGoroutine {
		return nil
	}
	s.mode = outside
	g := &s.g
	s.moveFrames(g)
	s.d.Count++
	if s.afterCrash {
		s.afterCrash = false
		s.raiser(g)
	}
	var err error
	if s.keep {
		s.d.Goroutines = append(s.d.Goroutines, *g)
	} else if s.fn != nil {
		err = s.fn(g)
	}
	s.g = Goroutine{}
	s.frames, s.args, s.spans = s.frames[:0], s.args[:0], s.spans[:0]
	return err
}

// moveFrames moves the collected frames and arguments into g: into the
// shared arena for Read, in place for Scan, whose callback is done with
// them before the next goroutine.
func (s *scanner) moveFrames(g *Goroutine) {
	n := len(s.frames)
	if n == 0 {
		return
	}
	fs := s.frames
	if s.keep {
		if cap(s.arena)-len(s.arena) < n {
			s.arena = make([]Frame, 0, max(min(2*cap(s.arena), maxArena), minArena, n))
		}
		fs = s.arena[len(s.arena) : len(s.arena)+n : len(s.arena)+n]
		s.arena = s.arena[:len(s.arena)+n]
		copy(fs, s.frames)
	}
	if len(s.args) > 0 {
		all := string(s.args)
		for i, sp := range s.spans {
			if sp.start >= 0 {
				fs[i].Args = all[sp.start:sp.end]
			}
		}
	}
	g.Frames = fs
}

// raiser records g as the goroutine that raised the crash report before
// it, when it was running, or in a system call for a signal that arrived
// in cgo code. The thread's idle goroutine 0 raises nothing.
func (s *scanner) raiser(g *Goroutine) {
	c := s.d.Crash
	if c == nil || g.ID == 0 {
		return
	}
	switch st, _ := SplitState(g.State); {
	case st == "running":
	case st == "syscall" && slices.Contains(c.Notes, "signal arrived during cgo execution"):
	default:
		return
	}
	gc := *g
	gc.Frames = slices.Clone(g.Frames)
	gc.Flags = slices.Clone(g.Flags)
	gc.Ancestors = slices.Clone(g.Ancestors)
	c.Goroutine = &gc
}

func (s *scanner) problem(b []byte, msg string) {
	if len(s.d.Problems) < MaxProblems {
		s.d.Problems = append(s.d.Problems, Problem{Line: s.line, Msg: msg, Text: string(b[:min(len(b), 80)])})
	}
}

// str returns b as a string, shared with earlier equal strings while
// fewer than maxIntern are kept, so that memory stays bounded on input
// whose names never repeat.
func (s *scanner) str(b []byte) string {
	if v, ok := s.intern[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(s.intern) < maxIntern && len(v) <= 1024 {
		s.intern[v] = v
	}
	return v
}
