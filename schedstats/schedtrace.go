package schedstats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits of ParseSchedtrace, which keep its memory bounded whatever the input.
const (
	maxTraceLine    = 64 << 10 // bytes in one line; longer lines are skipped or reported
	maxTraceRecords = 1 << 16  // SCHED records returned; later ones are dropped with errTooManyRecords
	maxTraceDetail  = 1 << 18  // P, M and G lines kept over the whole input; the rest are counted in Dropped
	maxTraceErrors  = 100      // parse errors reported; the first ones carry the most information
)

// Errors reported by ParseSchedtrace, wrapped in a *ParseError.
var (
	errMalformed      = errors.New("malformed schedtrace line")
	errLineTooLong    = errors.New("schedtrace line too long")
	errTooManyRecords = errors.New("too many schedtrace records")
)

// ParseError reports a schedtrace line that could not be parsed.
type ParseError struct {
	Line int    // 1-based line number in the input
	Text string // the line, cut to 200 bytes
	Err  error  // the cause: a malformed line, a line longer than 64 KiB, or records beyond 65,536
}

// Error returns "schedtrace line N: cause: text".
func (e *ParseError) Error() string {
	return fmt.Sprintf("schedtrace line %d: %v: %q", e.Line, e.Err, e.Text)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// TraceRecord is one SCHED line of GODEBUG=schedtrace output and, with
// scheddetail=1, the P, M and G lines that follow it.
type TraceRecord struct {
	Line            int           // line number of the SCHED line
	Uptime          time.Duration // time since the trace started
	GOMAXPROCS      int
	IdleProcs       int
	Threads         int
	SpinningThreads int
	NeedSpinning    int
	IdleThreads     int
	RunQueue        int      // global run queue
	LocalRunQueues  []int    // per P, from "[ a b ]" or the P lines' runqsize
	SchedTicks      []uint64 // per P, from "schedticks=[ ... ]" or the P lines

	Detailed bool     // scheddetail=1 output
	Ps       []TraceP // per-P detail
	Ms       []TraceM // per-M detail
	Gs       []TraceG // per-G detail
	Dropped  int      // detail lines of this record beyond the parser's limit (262,144 over the input), not kept
	Extra    []KeyVal // fields of the SCHED line not named above (gcwaiting=, ...)
}

// KeyVal is one key=value field kept verbatim.
type KeyVal struct{ Key, Value string }

// TraceP is a "P<n>:" detail line. M is -1 when the P has no M.
type TraceP struct {
	ID          int
	Status      int
	SchedTick   uint64
	SyscallTick uint64
	M           int
	RunQSize    int
	GFreeCnt    int
	TimersLen   int
}

// TraceM is an "M<n>:" detail line. P, CurG and LockedG are -1 when nil.
type TraceM struct {
	ID       int
	P        int
	CurG     int64
	Spinning bool
	Blocked  bool
	LockedG  int64
}

// TraceG is a "G<n>:" detail line. M and LockedM are -1 when nil.
type TraceG struct {
	ID         int64
	Status     int // runtime status, with the scan bit (0x1000) cleared
	WaitReason string
	M          int
	LockedM    int
}

// ParseSchedtrace reads GODEBUG=schedtrace (and scheddetail) output from r.
// Lines that are not part of the trace, such as a program's own logging,
// are skipped. It returns every record it could parse and, if any trace line
// was malformed, an error joining up to 100 *ParseError values; read errors
// from r are returned as they are. It never panics.
func ParseSchedtrace(r io.Reader) ([]TraceRecord, error) {
	p := traceParser{br: bufio.NewReaderSize(r, 4096)}
	return p.run()
}

type traceParser struct {
	br      *bufio.Reader
	line    int
	recs    []TraceRecord
	cur     *TraceRecord // record that detail lines attach to
	errs    []error
	nerrs   int
	dropped bool              // records beyond maxTraceRecords
	details int               // detail lines kept so far
	reasons map[string]string // interned wait reasons
	buf     []byte
}

func (p *traceParser) fail(text []byte, err error) {
	p.nerrs++
	if len(p.errs) >= maxTraceErrors {
		return
	}
	if len(text) > 200 {
		text = text[:200]
	}
	p.errs = append(p.errs, &ParseError{Line: p.line, Text: string(text), Err: err})
}

// readLine returns the next line without its newline; long reports that the
// line exceeded maxTraceLine and was cut to that length.
func (p *traceParser) readLine() (line []byte, long bool, err error) {
	p.buf = p.buf[:0]
	for {
		chunk, err := p.br.ReadSlice('\n')
		if len(p.buf)+len(chunk) > maxTraceLine {
			long = true
			chunk = chunk[:max(0, maxTraceLine-len(p.buf))]
		}
		p.buf = append(p.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(p.buf) > 0 {
			err = nil
		}
		return bytes.TrimRight(p.buf, "\r\n"), long, err
	}
}

func (p *traceParser) run() ([]TraceRecord, error) {
	var rerr error
	for {
		line, long, err := p.readLine()
		if err != nil {
			if err != io.EOF {
				rerr = err
			}
			break
		}
		p.line++
		p.handle(line, long)
	}
	if p.dropped {
		p.fail(nil, fmt.Errorf("%w: kept the first %d", errTooManyRecords, maxTraceRecords))
	}
	errs := p.errs
	if p.nerrs > len(errs) {
		errs = append(errs, fmt.Errorf("schedtrace: %d more errors not shown", p.nerrs-len(errs)))
	}
	if rerr != nil {
		errs = append(errs, rerr)
	}
	return p.recs, errors.Join(errs...)
}

func (p *traceParser) handle(line []byte, long bool) {
	if i := schedStart(line); i >= 0 {
		p.cur = nil
		if long {
			p.fail(line, errLineTooLong)
			return
		}
		rec, err := parseSchedLine(line[i:])
		if err != nil {
			p.fail(line, err)
			return
		}
		if len(p.recs) >= maxTraceRecords {
			p.dropped = true
			return
		}
		rec.Line = p.line
		p.recs = append(p.recs, rec)
		if rec.Detailed {
			p.cur = &p.recs[len(p.recs)-1]
		}
		return
	}
	kind, ok := detailKind(line)
	if !ok {
		// A program's own output may interleave with a detail block, so it
		// does not end the block; only the next SCHED line does.
		return
	}
	if p.cur == nil {
		return // detail lines without a detailed record are not ours to judge
	}
	if long {
		p.fail(line, errLineTooLong)
		return
	}
	if p.details >= maxTraceDetail {
		p.cur.Dropped++
		return
	}
	p.details++
	if err := p.addDetail(kind, bytes.TrimSpace(line)); err != nil {
		p.fail(line, err)
	}
}

// schedStart returns where a SCHED record starts in line, or -1. Other
// output may share the stream, even the same line, so "SCHED " followed by a
// digit counts wherever it is; a line that starts with "SCHED " is always
// taken as a record, so that a damaged one is reported rather than skipped.
func schedStart(line []byte) int {
	if bytes.HasPrefix(line, []byte("SCHED ")) {
		return 0
	}
	for off := 0; ; {
		i := bytes.Index(line[off:], []byte("SCHED "))
		if i < 0 {
			return -1
		}
		off += i + len("SCHED ")
		if off < len(line) && line[off] >= '0' && line[off] <= '9' {
			return off - len("SCHED ")
		}
	}
}

// detailKind reports whether line looks like "  P0: ", "  M1: " or "  G7: ".
func detailKind(line []byte) (byte, bool) {
	if !bytes.HasPrefix(line, []byte("  ")) {
		return 0, false
	}
	t := bytes.TrimLeft(line, " ")
	if len(t) < 3 || (t[0] != 'P' && t[0] != 'M' && t[0] != 'G') {
		return 0, false
	}
	colon := bytes.IndexByte(t, ':')
	if colon < 2 {
		return 0, false
	}
	for _, c := range t[1:colon] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return t[0], true
}
