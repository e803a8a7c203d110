package gdump

import (
	"strings"
	"time"
)

// Frame is one call in a stack.
type Frame struct {
	Func   string `json:"func"`           // package-qualified function, e.g. "main.worker"; a C symbol or "non-Go function" for cgo frames
	Args   string `json:"args,omitempty"` // the printed arguments, "..." when inlined
	File   string `json:"file"`           // empty when the runtime printed none (cgo frames)
	Line   int    `json:"line"`
	Offset uint64 `json:"offset,omitempty"` // PC offset in the function, the "+0x1d"
	// PC is the program counter, printed only with GOTRACEBACK=system or
	// higher ("pc=0x48f2bd") and for cgo frames; 0 otherwise.
	PC uint64 `json:"pc,omitempty"`
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID     uint64        `json:"id"`
	State  string        `json:"state"`          // status or wait reason as printed, e.g. "chan receive"; see SplitState
	Wait   time.Duration `json:"wait,omitempty"` // blocked time, minute resolution
	Locked bool          `json:"lockedToThread,omitempty"`
	Labels string        `json:"labels,omitempty"` // pprof labels as printed, without "labels:"
	Flags  []string      `json:"flags,omitempty"`  // other header items, e.g. "synctest bubble 3"
	Frames []Frame       `json:"frames"`
	// Elided is set when the runtime left frames out: "...additional
	// frames elided..." (before Go 1.21, after the 100th frame) or
	// "...N frames elided..." (Go 1.21 on, between the innermost and the
	// outermost 50), or frames beyond Options.MaxFrames were dropped.
	Elided bool `json:"elided,omitempty"`
	// ElidedFrames counts the frames left out where the dump says how
	// many ("...11806 frames elided..."), plus those beyond MaxFrames.
	ElidedFrames int `json:"elidedFrames,omitempty"`
	// Unavailable is set for "goroutine running on other thread; stack
	// unavailable": the goroutine ran on another thread while the runtime
	// printed, so it has no frames.
	Unavailable bool `json:"stackUnavailable,omitempty"`
	// CreatedBy is the go statement that started the goroutine; its Func
	// is empty for the main goroutine and goroutines the runtime starts.
	CreatedBy Frame  `json:"createdBy"`
	CreatorID uint64 `json:"creatorId,omitempty"`
	// Ancestors are the stacks of the goroutines that created this one,
	// printed with GODEBUG=tracebackancestors=N ("[originating from
	// goroutine N]:"), nearest first.
	Ancestors []Ancestor `json:"ancestors,omitempty"`
}

// Ancestor is the stack a creating goroutine had when it started a
// goroutine, as GODEBUG=tracebackancestors prints it.
type Ancestor struct {
	ID        uint64  `json:"id"`
	Frames    []Frame `json:"frames"`
	CreatedBy Frame   `json:"createdBy"`
}

// Dump is a goroutine dump and what the runtime printed around it: the
// crash report that precedes a crash's tracebacks, the traceback level
// the output shows, and a count of the lines that belonged to neither
// (a program's own log lines, a shell's "exit status 2").
type Dump struct {
	// Goroutines holds every goroutine in the order printed. Scan leaves
	// it empty and passes each goroutine to its callback instead.
	Goroutines []Goroutine `json:"goroutines,omitempty"`
	// Count is the number of goroutines read (len(Goroutines) after Read).
	Count int `json:"count"`
	// Crash is the crash report: nil for a dump nothing crashed in
	// (runtime.Stack, /debug/pprof/goroutine?debug=2).
	Crash *Crash `json:"crash,omitempty"`
	// Level is the GOTRACEBACK level the output shows; LevelUnknown when
	// there is no crash report.
	Level Level `json:"level,omitempty"`
	// Exit is the last line a launcher printed about the program's end:
	// "exit status 2" (go run), "FAIL\tpkg\t3.01s" (go test),
	// "signal: aborted (core dumped)".
	Exit string `json:"exit,omitempty"`
	// Other counts the lines that belong to no goroutine and no crash
	// report: log lines, register dumps, go test's output.
	Other int `json:"otherLines"`
	// Truncated is set when the input ends inside a goroutine's stack
	// or in the middle of a line: the file was cut.
	Truncated bool `json:"truncated,omitempty"`
	// Problems lists lines that looked like part of a stack but did not
	// parse (at most MaxProblems); the goroutines around them are kept.
	Problems []Problem `json:"problems,omitempty"`
	// Lines is the number of lines read.
	Lines int `json:"lines"`
}

// MaxProblems bounds Dump.Problems.
const MaxProblems = 20

// Problem is a line of a dump that did not parse.
type Problem struct {
	Line int    `json:"line"` // 1-based
	Msg  string `json:"msg"`  // what was expected
	Text string `json:"text"` // the line, cut to 80 bytes
}

// Crash is what a crashing program printed before its goroutines: panic
// values, a fatal error, a signal, and which goroutine raised it.
type Crash struct {
	// Panics are the "panic: " lines in the order printed: the first
	// panic first, the one that ended the program last. A panic raised
	// while another was running ("panic in a deferred call") follows it
	// on a line of its own.
	Panics []Panic `json:"panics,omitempty"`
	// Fatal is the message of a "fatal error: " line: a runtime throw
	// ("stack overflow") or a fatal error a program caused
	// ("concurrent map writes", "all goroutines are asleep - deadlock!").
	Fatal string `json:"fatal,omitempty"`
	// Signal is the signal the runtime reported: "SIGQUIT: quit" for a
	// dump requested with kill -QUIT, "SIGSEGV: segmentation violation
	// code=0x1 addr=0x0 pc=0x4b7d96" from the "[signal ...]" line after
	// a panic's message. A "PC=..." line after it is among the Notes.
	Signal string `json:"signal,omitempty"`
	// Notes are the runtime's other lines about the crash: "runtime:
	// goroutine stack exceeds 1000000000-byte limit", "signal arrived
	// during cgo execution", "panic during panic".
	Notes []string `json:"notes,omitempty"`
	// RuntimeStack is the stack of the thread's system stack, printed
	// under "runtime stack:" when the runtime itself threw there.
	RuntimeStack []Frame `json:"runtimeStack,omitempty"`
	// Goroutine is the goroutine that raised the crash: the first one
	// printed after the report when it was running (or in a system call,
	// for a signal in cgo code). It is nil when no goroutine raised it,
	// as when the runtime finds a deadlock or a signal arrives while the
	// thread was idle, and when GOTRACEBACK=none printed no goroutine.
	Goroutine *Goroutine `json:"goroutine,omitempty"`
	// Line is the line of the dump where the report starts.
	Line int `json:"line"`
}

// Panic is one panic of a crash report.
type Panic struct {
	// Value is the panic value as printed; a value printed on several
	// lines has them joined with "\n", without the runtime's indent.
	Value string `json:"value"`
	// Recovered is set for "[recovered]": a deferred call recovered this
	// panic, then the program panicked again.
	Recovered bool `json:"recovered,omitempty"`
	// Repanicked is set for "[recovered, repanicked]": recovered, then
	// raised again with the same value (Go 1.23 on).
	Repanicked bool `json:"repanicked,omitempty"`
}

// Message is the crash in one line: the last panic's value, or the
// fatal error, or the signal. A panic's value of several lines is cut at
// its first line.
func (c *Crash) Message() string {
	var m string
	switch {
	case c.Fatal != "":
		m = "fatal error: " + c.Fatal
	case len(c.Panics) > 0:
		m = "panic: " + c.Panics[len(c.Panics)-1].Value
	default:
		m = c.Signal
	}
	first, _, _ := strings.Cut(m, "\n")
	return first
}

// Level is a GOTRACEBACK level, as far as a crash's output shows it.
type Level string

// The levels a crash's output can show. LevelSystem also covers
// GOTRACEBACK=crash, which prints the same and then aborts, and the
// runtime's own throws and fatal signals (SIGQUIT, SIGSEGV outside Go
// code), which print at that level whatever GOTRACEBACK says.
const (
	LevelUnknown Level = ""
	LevelNone    Level = "none"   // the crash report alone, no goroutine
	LevelSingle  Level = "single" // the goroutine that crashed, the default
	LevelAll     Level = "all"    // every goroutine, without runtime frames
	LevelSystem  Level = "system" // every goroutine with runtime frames and the runtime's goroutines
)

// SplitState splits a goroutine's printed state into the runtime's
// status and the wait reason: "chan receive" is ("waiting", "chan
// receive"), "running" is ("running", ""), "select (leaked)" is
// ("leaked", "select"). The markers " (scan)" and " (durable)" are
// dropped; the reason keeps those that are part of it, as in "chan
// receive (nil chan)".
func SplitState(state string) (status, reason string) {
	s := strings.TrimSuffix(strings.TrimSuffix(state, " (scan)"), " (durable)")
	switch s {
	case "idle", "runnable", "running", "syscall", "waiting", "dead",
		"copystack", "leaked", "preempted", "waiting for cgo callback":
		return s, ""
	}
	if r, ok := strings.CutSuffix(s, " (leaked)"); ok {
		return "leaked", r
	}
	return "waiting", s
}
