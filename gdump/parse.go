package gdump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ErrSyntax is wrapped by every error Parse returns for malformed input.
var ErrSyntax = errors.New("gdump: malformed goroutine dump")

// SyntaxError says where a dump stopped making sense.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what was expected
	Text string // the offending line, truncated
}

// Error returns the message with the line number and text.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("gdump: line %d: %s: %q", e.Line, e.Msg, e.Text)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Frame is one call in a stack.
type Frame struct {
	Func   string `json:"func"`           // package-qualified function, e.g. "main.worker"
	Args   string `json:"args,omitempty"` // the printed arguments, "..." when inlined
	File   string `json:"file"`
	Line   int    `json:"line"`
	Offset uint64 `json:"offset,omitempty"` // PC offset in the function, the "+0x1d"
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID     uint64        `json:"id"`
	State  string        `json:"state"`          // status or wait reason, e.g. "chan receive"
	Wait   time.Duration `json:"wait,omitempty"` // blocked time, minute resolution
	Locked bool          `json:"lockedToThread,omitempty"`
	Labels string        `json:"labels,omitempty"` // pprof labels as printed, without "labels:"
	Flags  []string      `json:"flags,omitempty"`  // other header items, e.g. "synctest bubble 3"
	Frames []Frame       `json:"frames"`
	Elided bool          `json:"elided,omitempty"` // "...additional frames elided..."
	// CreatedBy is the go statement that started the goroutine; its Func
	// is empty for the main goroutine and goroutines the runtime starts.
	CreatedBy Frame  `json:"createdBy"`
	CreatorID uint64 `json:"creatorId,omitempty"`
}

// maxLine bounds one line of a dump; long argument lists stay far below.
const maxLine = 1 << 20

type parser struct {
	sc     *bufio.Scanner
	line   int
	intern map[string]string
	gs     []Goroutine
	// The current goroutine's frames and arguments are collected here and
	// moved out when it ends, so that each goroutine costs one string for
	// all its arguments and a slice of a shared frame arena, instead of
	// one allocation per frame and a map entry per (unique) argument list.
	frames []Frame
	args   []byte
	spans  []argSpan
	arena  []Frame
}

// argSpan locates a frame's arguments in parser.args; start < 0 means
// the frame's Args is already set (to an interned common value).
type argSpan struct{ start, end int }

// The frame arena starts small, for the dumps of small processes, and
// doubles up to maxArena frames per allocation.
const minArena, maxArena = 256, 4096

// Parse reads a goroutine dump. Text before the first "goroutine N [...]:"
// header (such as a panic message) is skipped; after it, every line must
// belong to a goroutine. An empty dump yields no goroutines and no error;
// input with no goroutine header is a *SyntaxError.
func Parse(r io.Reader) ([]Goroutine, error) {
	p := &parser{sc: bufio.NewScanner(r), intern: make(map[string]string)}
	p.sc.Buffer(make([]byte, 64<<10), maxLine)
	err := p.parse()
	p.finish()
	return p.gs, err
}

// cur returns the current goroutine, which finish completes.
func (p *parser) cur() *Goroutine { return &p.gs[len(p.gs)-1] }

func (p *parser) parse() error {
	var g *Goroutine
	var target *Frame // the frame whose location line comes next
	var created bool  // g's "created by" line was seen
	seen := false
	for p.sc.Scan() {
		p.line++
		b := p.sc.Bytes()
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		switch {
		case len(b) == 0:
			if target != nil {
				return p.errorf(b, "missing location line")
			}
			if g != nil {
				p.finish()
			}
			g, created = nil, false
		case bytes.HasPrefix(b, []byte("goroutine ")) && bytes.HasSuffix(b, []byte("]:")):
			if target != nil {
				return p.errorf(b, "missing location line")
			}
			if g != nil {
				p.finish()
			}
			p.gs = append(p.gs, Goroutine{})
			g, created = p.cur(), false
			if err := p.header(b, g); err != nil {
				p.gs = p.gs[:len(p.gs)-1]
				return err
			}
			seen = true
		case !seen:
			// preamble, such as "panic: ..." before the tracebacks
		case g == nil:
			return p.errorf(b, "expected a goroutine header")
		case b[0] == '\t':
			if target == nil {
				continue // a note such as "goroutine running on other thread"
			}
			if err := p.location(b[1:], target); err != nil {
				return err
			}
			target = nil
		case bytes.Equal(b, []byte("...additional frames elided...")):
			g.Elided = true
		case bytes.HasPrefix(b, []byte("created by ")):
			if target != nil {
				return p.errorf(b, "missing location line")
			}
			if created || len(b) == len("created by ") {
				return p.errorf(b, "bad created by line")
			}
			p.createdBy(b[len("created by "):], g)
			target, created = &g.CreatedBy, true
		default:
			if target != nil {
				return p.errorf(b, "missing location line")
			}
			if created {
				return p.errorf(b, "frame after created by")
			}
			if err := p.call(b); err != nil {
				return err
			}
			// Valid until the next call line, which comes after the location.
			target = &p.frames[len(p.frames)-1]
		}
	}
	if err := p.sc.Err(); err != nil {
		return &SyntaxError{Line: p.line + 1, Msg: err.Error()}
	}
	if target != nil {
		return p.errorf(nil, "missing location line at end of input")
	}
	if !seen && p.line > 0 {
		return &SyntaxError{Line: 1, Msg: "no goroutine header found"}
	}
	return nil
}

// finish moves the collected frames and arguments into the current
// goroutine. It is a no-op when there are none.
func (p *parser) finish() {
	n := len(p.frames)
	if n == 0 {
		return
	}
	if cap(p.arena)-len(p.arena) < n {
		p.arena = make([]Frame, 0, max(min(2*cap(p.arena), maxArena), minArena, n))
	}
	fs := p.arena[len(p.arena) : len(p.arena)+n : len(p.arena)+n]
	p.arena = p.arena[:len(p.arena)+n]
	copy(fs, p.frames)
	all := string(p.args)
	for i, sp := range p.spans {
		if sp.start >= 0 {
			fs[i].Args = all[sp.start:sp.end]
		}
	}
	p.cur().Frames = fs
	p.frames, p.args, p.spans = p.frames[:0], p.args[:0], p.spans[:0]
}

func (p *parser) errorf(b []byte, msg string) error {
	if len(b) > 80 {
		b = b[:80]
	}
	return &SyntaxError{Line: p.line, Msg: msg, Text: string(b)}
}

func (p *parser) str(b []byte) string {
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	p.intern[s] = s
	return s
}

// header parses "goroutine 18 [chan receive, 5 minutes, locked to thread]:",
// optionally with "gp=... m=..." before the bracket and labels inside it.
func (p *parser) header(b []byte, g *Goroutine) error {
	rest := b[len("goroutine "):]
	n, rest := digits(rest)
	if n == 0 || len(rest) == 0 || rest[0] != ' ' {
		return p.errorf(b, "bad goroutine id")
	}
	g.ID = parseUint(b[len("goroutine ") : len("goroutine ")+n])
	open := bytes.IndexByte(rest, '[')
	if open < 0 {
		return p.errorf(b, "missing '[' in goroutine header")
	}
	in := rest[open+1 : len(rest)-2]
	if i := bytes.Index(in, []byte(" labels:{")); i >= 0 && in[len(in)-1] == '}' {
		g.Labels = string(in[i+len(" labels:{") : len(in)-1])
		in = in[:i]
	}
	first := true
	for len(in) > 0 {
		item := in
		if i := bytes.Index(in, []byte(", ")); i >= 0 {
			item, in = in[:i], in[i+2:]
		} else {
			in = nil
		}
		switch {
		case first:
			if len(item) == 0 {
				return p.errorf(b, "empty goroutine state")
			}
			g.State = p.str(item)
			first = false
		case bytes.HasSuffix(item, []byte(" minutes")):
			m, r := digits(item)
			if m == 0 || string(r) != " minutes" {
				return p.errorf(b, "bad wait time")
			}
			g.Wait = time.Duration(min(parseUint(item[:m]), 1<<32)) * time.Minute
		case string(item) == "locked to thread":
			g.Locked = true
		default:
			g.Flags = append(g.Flags, p.str(item))
		}
	}
	if first {
		return p.errorf(b, "empty goroutine state")
	}
	return nil
}

// call parses "pkg.fn(0x1, 0x2)" or "pkg.(*T).m(...)" into a new frame
// of the current goroutine.
func (p *parser) call(b []byte) error {
	if b[len(b)-1] != ')' {
		return p.errorf(b, "expected a function call line")
	}
	// The arguments never contain '(' but a method name can: search from
	// the end for the '(' that opens the argument list.
	open := bytes.LastIndexByte(b, '(')
	if open <= 0 {
		return p.errorf(b, "expected a function call line")
	}
	f := Frame{Func: p.str(b[:open])}
	args := b[open+1 : len(b)-1]
	sp := argSpan{start: -1}
	switch string(args) {
	case "":
	case "...":
		f.Args = "..."
	default:
		sp = argSpan{len(p.args), len(p.args) + len(args)}
		p.args = append(p.args, args...)
	}
	p.frames = append(p.frames, f)
	p.spans = append(p.spans, sp)
	return nil
}

// createdBy parses "main.main in goroutine 1" (or the older "main.main").
func (p *parser) createdBy(b []byte, g *Goroutine) {
	if i := bytes.Index(b, []byte(" in goroutine ")); i >= 0 {
		if n, r := digits(b[i+len(" in goroutine "):]); n > 0 && len(r) == 0 {
			g.CreatorID = parseUint(b[i+len(" in goroutine "):])
			b = b[:i]
		}
	}
	g.CreatedBy.Func = p.str(b)
}

// location parses "/path/file.go:123 +0x1d" (after the tab), ignoring
// " fp=... sp=... pc=..." that GOTRACEBACK=system adds.
func (p *parser) location(b []byte, f *Frame) error {
	end := len(b)
	if i := bytes.Index(b, []byte(" +0x")); i >= 0 {
		end = i
		hex := b[i+len(" +0x"):]
		if k := bytes.IndexByte(hex, ' '); k >= 0 {
			hex = hex[:k]
		}
		off, err := strconv.ParseUint(string(hex), 16, 64)
		if err != nil {
			return p.errorf(b, "bad pc offset")
		}
		f.Offset = off
	} else if i := bytes.Index(b, []byte(" fp=")); i >= 0 {
		end = i
	}
	loc := b[:end]
	colon := bytes.LastIndexByte(loc, ':')
	if colon <= 0 {
		return p.errorf(b, "expected file:line")
	}
	n, r := digits(loc[colon+1:])
	if n == 0 || len(r) != 0 {
		return p.errorf(b, "expected file:line")
	}
	f.File, f.Line = p.str(loc[:colon]), int(min(parseUint(loc[colon+1:]), 1<<31-1))
	return nil
}

// digits returns the number of leading ASCII digits of b and the rest.
func digits(b []byte) (int, []byte) {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	return n, b[n:]
}

// parseUint parses leading digits, saturating instead of overflowing.
func parseUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		if v > (1<<64-1-9)/10 {
			return 1<<64 - 1
		}
		v = v*10 + uint64(c-'0')
	}
	return v
}
