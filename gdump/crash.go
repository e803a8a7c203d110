package gdump

import (
	"bytes"
	"fmt"
	"strings"
)

// isReportStart reports whether b starts a crash report: a panic, a fatal
// error, or a fatal signal ("SIGQUIT: quit", "SIGSEGV: segmentation
// violation").
func isReportStart(b []byte) bool {
	return bytes.HasPrefix(b, []byte("panic: ")) || bytes.HasPrefix(b, []byte("fatal error: ")) || isSignalLine(b)
}

// isSignalLine matches the runtime's "SIGxxx: description" line.
func isSignalLine(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("SIG")) {
		return false
	}
	i := 3
	for i < len(b) && (b[i] >= 'A' && b[i] <= 'Z' || b[i] >= '0' && b[i] <= '9') {
		i++
	}
	return i > 3 && bytes.HasPrefix(b[i:], []byte(": "))
}

// isExit matches what go run and go test print after a crash.
func isExit(b []byte) bool {
	return bytes.HasPrefix(b, []byte("exit status ")) || bytes.HasPrefix(b, []byte("signal: ")) ||
		string(b) == "FAIL" || bytes.HasPrefix(b, []byte("FAIL\t"))
}

// startBlock starts a crash report at b, taking the "runtime: " lines
// just before it as its first notes.
func (s *scanner) startBlock(b []byte) {
	c := &Crash{Line: s.line}
	if len(s.notes) > 0 && s.noteLine == s.line-1 {
		c.Notes = append(c.Notes, s.notes...)
		c.Line -= len(s.notes)
		s.d.Other -= len(s.notes)
	}
	s.notes = s.notes[:0]
	s.block, s.mode = c, inCrash
	s.crashLine(b)
}

// attachBlock makes the report just read the dump's crash report, or
// notes it as a later one. The other threads' reports of a
// GOTRACEBACK=crash run repeat the first signal and are not noted.
func (s *scanner) attachBlock() {
	c := s.block
	switch {
	case s.d.Crash == nil:
		s.d.Crash = c
		s.afterCrash = true
	case c == s.d.Crash:
	case c.Signal != "" && len(c.Panics) == 0 && c.Fatal == "" && signalName(c.Signal) == signalName(s.d.Crash.Signal):
	case len(s.d.Crash.Notes) < maxNotes:
		s.d.Crash.Notes = append(s.d.Crash.Notes, fmt.Sprintf("another crash report at line %d: %s", c.Line, c.Message()))
	}
}

func signalName(s string) string {
	name, _, _ := strings.Cut(s, ":")
	return name
}

// crashLine reads a line of a crash report and reports whether it was one.
func (s *scanner) crashLine(b []byte) bool {
	c := s.block
	empty := len(c.Panics) == 0 && c.Fatal == "" && c.Signal == ""
	switch {
	case len(b) == 0:
	case bytes.HasPrefix(b, []byte("panic: ")):
		if !empty {
			return false // a new report
		}
		s.addPanic(b[len("panic: "):])
	case bytes.HasPrefix(b, []byte("\tpanic: ")):
		s.addPanic(b[len("\tpanic: "):])
	case bytes.HasPrefix(b, []byte("fatal error: ")) || bytes.HasPrefix(b, []byte("\tfatal error: ")):
		if c.Fatal != "" {
			return false
		}
		_, msg, _ := bytes.Cut(b, []byte("fatal error: "))
		c.Fatal = clip(string(msg))
	case isSignalLine(b):
		if !empty {
			return false
		}
		c.Signal = string(b)
	case bytes.HasPrefix(b, []byte("[signal ")) && bytes.HasSuffix(b, []byte("]")):
		if c.Signal == "" {
			c.Signal = string(b[len("[signal ") : len(b)-1])
		} else {
			s.note(b)
		}
	case bytes.HasPrefix(b, []byte("PC=")) || bytes.HasPrefix(b, []byte("runtime: ")) ||
		bytes.HasPrefix(b, []byte("unexpected fault address ")) || bytes.HasPrefix(b, []byte("instruction bytes:")) ||
		string(b) == "signal arrived during cgo execution" || string(b) == "panic during panic" ||
		string(b) == "stack trace unavailable":
		s.note(b)
	case string(b) == "runtime stack:":
		s.mode = inRuntimeStack
	case b[0] == '\t':
		// The runtime indents the lines after the first of a value it
		// prints on several (see printindented).
		switch {
		case c.Fatal != "":
			c.Fatal = clip(c.Fatal + "\n" + string(b[1:]))
		case len(c.Panics) > 0:
			s.continuePanic(b[1:])
		default:
			return false
		}
	default:
		return false
	}
	return true
}

func (s *scanner) note(b []byte) {
	if len(s.block.Notes) < maxNotes {
		s.block.Notes = append(s.block.Notes, clip(string(b)))
	}
}

// addPanic reads a panic's value, with its "[recovered]" marker.
func (s *scanner) addPanic(v []byte) {
	c := s.block
	if len(c.Panics) >= maxNotes {
		c.Panics = c.Panics[:maxNotes-1] // keep the last, the one that ended the program
	}
	c.Panics = append(c.Panics, Panic{})
	s.continuePanic(v)
	p := &c.Panics[len(c.Panics)-1]
	p.Value = strings.TrimPrefix(p.Value, "\n")
}

// continuePanic adds a line to the last panic's value; the markers the
// runtime prints after the value end its last line.
func (s *scanner) continuePanic(line []byte) {
	p := &s.block.Panics[len(s.block.Panics)-1]
	switch {
	case bytes.HasSuffix(line, []byte(" [recovered, repanicked]")):
		line = line[:len(line)-len(" [recovered, repanicked]")]
		p.Recovered, p.Repanicked = true, true
	case bytes.HasSuffix(line, []byte(" [recovered]")):
		line = line[:len(line)-len(" [recovered]")]
		p.Recovered = true
	}
	p.Value = clip(p.Value + "\n" + string(line))
}

// clip bounds a message kept from the input.
func clip(s string) string {
	if len(s) > maxMessage {
		return s[:maxMessage]
	}
	return s
}

// runtimeStackLine reads a line of the frames under "runtime stack:" and
// reports whether it was one.
func (s *scanner) runtimeStackLine(b []byte) bool {
	c := s.block
	if s.target == runtimeTarget || s.target == droppedTarget {
		if isIndented(b) && s.location(b) {
			return true
		}
		if s.target == runtimeTarget {
			c.RuntimeStack = c.RuntimeStack[:len(c.RuntimeStack)-1]
		}
		s.target = noTarget
		return false
	}
	switch {
	case len(b) == 0 || isHeader(b) || isReportStart(b) || isIndented(b):
		return false
	case bytes.HasPrefix(b, []byte("...")) && bytes.HasSuffix(b, []byte(" elided...")):
		return true
	}
	fn, args, paren := splitCall(b)
	if !paren {
		return false
	}
	if len(c.RuntimeStack) >= s.o.MaxFrames {
		s.target = droppedTarget
		return true
	}
	c.RuntimeStack = append(c.RuntimeStack, Frame{Func: s.str(fn), Args: string(args)})
	s.target, s.guess = runtimeTarget, false
	return true
}
