package gdump

import (
	"bytes"
	"errors"
	"time"
)

// isHeader matches "goroutine N ...]:" at the start of a line. The
// runtime never indents headers; a header inside an indented panic value
// ("\tgoroutine 9 [running]:") is part of the value.
func isHeader(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("goroutine ")) {
		return false
	}
	return bytes.HasSuffix(b, []byte("]:")) ||
		bytes.HasSuffix(b, []byte("}:")) && bytes.Contains(b, []byte("] {")) // Go 1.27's labels
}

// isIndented matches a location line: a tab, or spaces where a terminal
// or a copy and paste replaced it.
func isIndented(b []byte) bool {
	return len(b) > 0 && (b[0] == '\t' || b[0] == ' ')
}

// splitCall splits "pkg.(*T).m(0x1, 0x2)" into the function and its
// arguments. paren is false for a line without an argument list, such
// as the bare C symbol of a symbolized cgo frame.
func splitCall(b []byte) (fn, args []byte, paren bool) {
	if len(b) > 1 && b[len(b)-1] == ')' {
		// The arguments never contain '(' but a method name can: search
		// from the end for the '(' that opens the argument list.
		if open := bytes.LastIndexByte(b, '('); open > 0 {
			return b[:open], b[open+1 : len(b)-1], true
		}
	}
	return bytes.TrimSpace(b), nil, false
}

// location is a parsed location line.
type location struct {
	file   []byte
	line   int
	offset uint64
	pc     uint64
	hasPC  bool // "pc=0x..." was printed: GOTRACEBACK=system, or a cgo frame
	hasFP  bool // "fp=0x..." was printed: GOTRACEBACK=system
}

// parseLocation reads "\t/path/file.go:123 +0x1d", with the " fp=0x...
// sp=0x... pc=0x..." GOTRACEBACK=system adds, or a cgo frame's
// "\tfile.c:12 pc=0x..." or "\tpc=0x...".
func parseLocation(b []byte) (location, bool) {
	var l location
	b = bytes.TrimLeft(b, "\t ")
	end := len(b)
	if i := bytes.Index(b, []byte("pc=0x")); i >= 0 {
		pc, ok := parseHex(b[i+len("pc=0x"):])
		if !ok {
			return l, false
		}
		l.pc, l.hasPC, end = pc, true, i
	}
	if i := bytes.Index(b[:end], []byte(" fp=")); i >= 0 {
		l.hasFP, end = true, i
	}
	if i := bytes.Index(b[:end], []byte(" +0x")); i >= 0 {
		off, ok := parseHex(b[i+len(" +0x") : end])
		if !ok {
			return l, false
		}
		l.offset, end = off, i
	}
	loc := bytes.TrimRight(b[:end], " ")
	if len(loc) == 0 {
		return l, l.hasPC // "\tpc=0x4a141c": a cgo frame without a file
	}
	colon := bytes.LastIndexByte(loc, ':')
	if colon <= 0 {
		return l, false
	}
	n, r := digits(loc[colon+1:])
	if n == 0 || len(r) != 0 {
		return l, false
	}
	l.file, l.line = loc[:colon], int(min(parseUint(loc[colon+1:]), 1<<31-1))
	return l, true
}

// header parses "goroutine 18 [chan receive, 5 minutes, locked to thread]:",
// optionally with "gp=... m=... mp=..." before the bracket (GOTRACEBACK=system,
// Go 1.23 on) and pprof labels: inside the bracket up to Go 1.26
// ("[running labels:{"k": "v"}]:"), after it from Go 1.27 ("[running] {k: v}:").
func (s *scanner) header(b []byte, g *Goroutine) error {
	rest := b[len("goroutine "):]
	n, rest := digits(rest)
	if n == 0 || len(rest) == 0 || rest[0] != ' ' {
		return errors.New("bad goroutine id")
	}
	g.ID = parseUint(b[len("goroutine ") : len("goroutine ")+n])
	open := bytes.IndexByte(rest, '[')
	if open < 0 {
		return errors.New("missing '[' in goroutine header")
	}
	if bytes.Contains(rest[:open], []byte(" gp=")) {
		s.sawSystem = true
	}
	in := rest[open+1 : len(rest)-2]
	if bytes.HasSuffix(rest, []byte("}:")) {
		i := bytes.Index(rest[open:], []byte("] {"))
		if i < 0 {
			return errors.New("missing ']' in goroutine header")
		}
		in, g.Labels = rest[open+1:open+i], string(rest[open+i+len("] {"):len(rest)-2])
	} else if i := bytes.Index(in, []byte(" labels:{")); i >= 0 && len(in) > 0 && in[len(in)-1] == '}' {
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
				return errors.New("empty goroutine state")
			}
			g.State = s.str(item)
			first = false
		case bytes.HasSuffix(item, []byte(" minutes")):
			m, r := digits(item)
			if m == 0 || string(r) != " minutes" {
				return errors.New("bad wait time")
			}
			g.Wait = time.Duration(min(parseUint(item[:m]), 1<<32)) * time.Minute
		case string(item) == "locked to thread":
			g.Locked = true
		default:
			g.Flags = append(g.Flags, s.str(item))
		}
	}
	if first {
		return errors.New("empty goroutine state")
	}
	return nil
}

// createdBy parses "main.main in goroutine 1" (or the older "main.main").
func (s *scanner) createdBy(b []byte, g *Goroutine) {
	if i := bytes.Index(b, []byte(" in goroutine ")); i >= 0 {
		if n, r := digits(b[i+len(" in goroutine "):]); n > 0 && len(r) == 0 {
			g.CreatorID = parseUint(b[i+len(" in goroutine "):])
			b = b[:i]
		}
	}
	g.CreatedBy.Func = s.str(b)
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

// parseHex parses the hex digits at the start of b, up to a space or the
// end; it fails on anything else or on more than 16 digits.
func parseHex(b []byte) (uint64, bool) {
	var v uint64
	n := 0
	for ; n < len(b) && b[n] != ' '; n++ {
		c := b[n]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		if n >= 16 {
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, n > 0
}
