package analyze

import (
	"bytes"
	"regexp"
)

// Kind is a kind of diagnostics file.
type Kind string

// The kinds gdiag analyze reads.
const (
	Unknown    Kind = ""
	Goroutines Kind = "goroutines" // runtime.Stack / debug=2 goroutine dump, or a crash's output
	Schedtrace Kind = "schedtrace" // GODEBUG=schedtrace[,scheddetail] output
	Profile    Kind = "profile"    // pprof protobuf, gzipped or not
	Trace      Kind = "trace"      // runtime/trace execution trace
)

var (
	goroutineHeader = regexp.MustCompile(`(?m)^goroutine \d+ (gp=0x[0-9a-f]+ m=\S+ (mp=0x[0-9a-f]+ )?)?\[`)
	// crashStart matches the first line of a crash report, for crash
	// output whose goroutines come after more than the head Detect sees,
	// or are not printed at all (GOTRACEBACK=none).
	crashStart = regexp.MustCompile(`(?m)^(panic: |fatal error: |SIG[A-Z]+: )`)
	schedLine  = regexp.MustCompile(`(?m)^SCHED \d+ms: gomaxprocs=`)
)

// Detect names the kind of a file from its first bytes (a megabyte).
// Text kinds are recognised by a line anywhere in head, since logs often
// start with the program's own output.
func Detect(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, []byte("go 1.")) && bytes.Contains(head[:min(len(head), 16)], []byte(" trace\x00")):
		return Trace
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Profile // pprof profiles are gzipped protobuf
	case schedLine.Match(head):
		return Schedtrace
	case goroutineHeader.Match(head) || crashStart.Match(head):
		return Goroutines
	case looksLikeProto(head):
		return Profile
	}
	return Unknown
}

// looksLikeProto accepts an uncompressed profile.proto: it starts with
// field 1 (sample_type, a short message) whose first field is a varint, as
// every encoder writes it.
func looksLikeProto(b []byte) bool {
	return len(b) > 2 && b[0] == 0x0a && b[1] < 0x80 && b[2] == 0x08
}
