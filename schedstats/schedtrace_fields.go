package schedstats

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// maxExtra bounds the unrecognised fields kept per SCHED line.
const maxExtra = 16

// parseSchedLine parses "SCHED 104ms: gomaxprocs=2 ... runqueue=3 [ 1 2 ] schedticks=[ 7 8 ]",
// also accepting the older "[1 2]" list form and scheddetail's trailing fields.
func parseSchedLine(line []byte) (TraceRecord, error) {
	var rec TraceRecord
	rest, ok := bytes.CutPrefix(line, []byte("SCHED "))
	if !ok {
		return rec, fmt.Errorf("%w: no SCHED prefix", errMalformed)
	}
	up, rest, ok := bytes.Cut(rest, []byte("ms:"))
	if !ok {
		return rec, fmt.Errorf("%w: no uptime", errMalformed)
	}
	ms, err := strconv.ParseInt(string(up), 10, 64)
	if err != nil || ms < 0 || ms > int64(1<<62/time.Millisecond) {
		return rec, fmt.Errorf("%w: bad uptime %q", errMalformed, up)
	}
	rec.Uptime = time.Duration(ms) * time.Millisecond

	var list *[]int     // list being read, nil when none
	var ticks *[]uint64 // likewise for schedticks
	seen := map[string]bool{}
	for _, f := range bytes.Fields(rest) {
		if list != nil || ticks != nil {
			end := bytes.HasSuffix(f, []byte("]"))
			if err := appendListItem(bytes.Trim(f, "[]"), list, ticks); err != nil {
				return rec, err
			}
			if end {
				list, ticks = nil, nil
			}
			continue
		}
		key, val, isKV := bytes.Cut(f, []byte("="))
		if !isKV {
			if !bytes.HasPrefix(f, []byte("[")) || rec.LocalRunQueues != nil {
				return rec, fmt.Errorf("%w: unexpected %q", errMalformed, f)
			}
			rec.LocalRunQueues = []int{}
			key, val = nil, f
		}
		if bytes.HasPrefix(val, []byte("[")) {
			switch string(key) {
			case "":
				list = &rec.LocalRunQueues
			case "schedticks":
				rec.SchedTicks = []uint64{}
				ticks = &rec.SchedTicks
			default:
				return rec, fmt.Errorf("%w: unexpected list %q", errMalformed, key)
			}
			if err := appendListItem(bytes.Trim(val, "[]"), list, ticks); err != nil {
				return rec, err
			}
			if len(val) > 1 && val[len(val)-1] == ']' { // "[3" opens a list, "[3]" also closes it
				list, ticks = nil, nil
			}
			continue
		}
		if err := rec.setField(string(key), string(val), seen); err != nil {
			return rec, err
		}
	}
	if list != nil || ticks != nil {
		return rec, fmt.Errorf("%w: unterminated list", errMalformed)
	}
	for _, k := range []string{"gomaxprocs", "idleprocs", "threads", "runqueue"} {
		if !seen[k] {
			return rec, fmt.Errorf("%w: missing %s", errMalformed, k)
		}
	}
	return rec, nil
}

func appendListItem(f []byte, list *[]int, ticks *[]uint64) error {
	if len(f) == 0 {
		return nil
	}
	if list != nil {
		n, err := strconv.Atoi(string(f))
		if err != nil {
			return fmt.Errorf("%w: bad run-queue length %q", errMalformed, f)
		}
		*list = append(*list, n)
		return nil
	}
	n, err := strconv.ParseUint(string(f), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad schedtick %q", errMalformed, f)
	}
	*ticks = append(*ticks, n)
	return nil
}

func (rec *TraceRecord) setField(key, val string, seen map[string]bool) error {
	if seen[key] {
		return fmt.Errorf("%w: repeated %s", errMalformed, key)
	}
	seen[key] = true
	var dst *int
	switch key {
	case "gomaxprocs":
		dst = &rec.GOMAXPROCS
	case "idleprocs":
		dst = &rec.IdleProcs
	case "threads":
		dst = &rec.Threads
	case "spinningthreads":
		dst = &rec.SpinningThreads
	case "needspinning":
		dst = &rec.NeedSpinning
	case "idlethreads":
		dst = &rec.IdleThreads
	case "runqueue":
		dst = &rec.RunQueue
	default:
		// Present only with scheddetail=1.
		if key == "gcwaiting" || key == "sysmonwait" || key == "stopwait" || key == "nmidlelocked" {
			rec.Detailed = true
		}
		if len(rec.Extra) < maxExtra {
			rec.Extra = append(rec.Extra, KeyVal{key, val})
		}
		return nil
	}
	n, err := strconv.Atoi(val)
	if err != nil {
		return fmt.Errorf("%w: bad %s %q", errMalformed, key, val)
	}
	*dst = n
	return nil
}

// addDetail parses a P, M or G line (leading spaces removed) into p.cur.
func (p *traceParser) addDetail(kind byte, line []byte) error {
	head, rest, _ := bytes.Cut(line, []byte(":"))
	id, err := strconv.ParseInt(string(head[1:]), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad id %q", errMalformed, head)
	}
	rec := p.cur
	switch kind {
	case 'P':
		tp := TraceP{ID: int(id), M: -1}
		err = eachField(rest, func(k, v string) error {
			switch k {
			case "status":
				return atoi(v, &tp.Status)
			case "schedtick":
				return atou(v, &tp.SchedTick)
			case "syscalltick":
				return atou(v, &tp.SyscallTick)
			case "m":
				return atoiNil(v, &tp.M)
			case "runqsize":
				return atoi(v, &tp.RunQSize)
			case "gfreecnt":
				return atoi(v, &tp.GFreeCnt)
			case "timerslen":
				return atoi(v, &tp.TimersLen)
			}
			return nil
		})
		if err == nil {
			rec.Ps = append(rec.Ps, tp)
			rec.LocalRunQueues = append(rec.LocalRunQueues, tp.RunQSize)
			rec.SchedTicks = append(rec.SchedTicks, tp.SchedTick)
		}
	case 'M':
		tm := TraceM{ID: int(id), P: -1, CurG: -1, LockedG: -1}
		err = eachField(rest, func(k, v string) error {
			switch k {
			case "p":
				return atoiNil(v, &tm.P)
			case "curg":
				return atoi64Nil(v, &tm.CurG)
			case "lockedg":
				return atoi64Nil(v, &tm.LockedG)
			case "spinning":
				return atob(v, &tm.Spinning)
			case "blocked":
				return atob(v, &tm.Blocked)
			}
			return nil
		})
		if err == nil {
			rec.Ms = append(rec.Ms, tm)
		}
	case 'G':
		var tg TraceG
		tg, err = p.parseG(id, rest)
		if err == nil {
			rec.Gs = append(rec.Gs, tg)
		}
	}
	return err
}

// parseG parses " status=4(force gc (idle)) m=nil lockedm=nil"; the wait
// reason may itself contain parentheses and spaces.
func (p *traceParser) parseG(id int64, rest []byte) (TraceG, error) {
	tg := TraceG{ID: id, M: -1, LockedM: -1}
	rest = bytes.TrimSpace(rest)
	st, ok := bytes.CutPrefix(rest, []byte("status="))
	open := bytes.IndexByte(st, '(')
	end := bytes.LastIndex(st, []byte(") m="))
	if !ok || open < 0 || end < open {
		return tg, fmt.Errorf("%w: bad G status", errMalformed)
	}
	if err := atoi(string(st[:open]), &tg.Status); err != nil {
		return tg, err
	}
	tg.Status &^= 0x1000 // the GC's scan bit
	tg.WaitReason = p.intern(st[open+1 : end])
	err := eachField(st[end+1:], func(k, v string) error {
		switch k {
		case "m":
			return atoiNil(v, &tg.M)
		case "lockedm":
			return atoiNil(v, &tg.LockedM)
		}
		return nil
	})
	return tg, err
}

// intern shares the few distinct wait reasons between G lines.
func (p *traceParser) intern(b []byte) string {
	if s, ok := p.reasons[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.reasons == nil {
		p.reasons = map[string]string{}
	}
	if len(p.reasons) < 256 {
		p.reasons[s] = s
	}
	return s
}

// eachField calls fn for every key=value field; other words (such as the
// spaces inside an M's preemptoff reason) are ignored.
func eachField(b []byte, fn func(k, v string) error) error {
	for _, f := range bytes.Fields(b) {
		k, v, ok := bytes.Cut(f, []byte("="))
		if !ok {
			continue
		}
		if err := fn(string(k), string(v)); err != nil {
			return err
		}
	}
	return nil
}

func atoi(v string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%w: bad number %q", errMalformed, v)
	}
	*dst = n
	return nil
}

func atou(v string, dst *uint64) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad number %q", errMalformed, v)
	}
	*dst = n
	return nil
}

func atoiNil(v string, dst *int) error {
	if v == "nil" {
		*dst = -1
		return nil
	}
	return atoi(v, dst)
}

func atoi64Nil(v string, dst *int64) error {
	if v == "nil" {
		*dst = -1
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad number %q", errMalformed, v)
	}
	*dst = n
	return nil
}

func atob(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%w: bad boolean %q", errMalformed, v)
	}
	*dst = b
	return nil
}

// Snapshot converts the record to a Snapshot. Time is left zero (a trace
// only knows its uptime). Goroutine states are filled only from a complete
// scheddetail record; Sources records which parts were filled.
func (rec TraceRecord) Snapshot() Snapshot {
	s := Snapshot{
		GOMAXPROCS:      rec.GOMAXPROCS,
		IdlePs:          rec.IdleProcs,
		Threads:         rec.Threads,
		IdleThreads:     rec.IdleThreads,
		SpinningThreads: rec.SpinningThreads,
		GlobalRunQueue:  rec.RunQueue,
		LocalRunQueues:  cloneSlice(rec.LocalRunQueues),
	}
	s.Sources.Procs, s.Sources.Threads, s.Sources.RunQueues = SourceSchedtrace, SourceSchedtrace, SourceSchedtrace
	if !rec.Detailed || len(rec.Gs) == 0 || rec.Dropped > 0 {
		return s
	}
	for _, g := range rec.Gs {
		switch g.Status {
		case 1: // _Grunnable
			s.Goroutines.Runnable++
		case 2: // _Grunning
			s.Goroutines.Running++
		case 3: // _Gsyscall
			s.Goroutines.NotInGo++
		case 0, 6, 11: // _Gidle, _Gdead, _Gdeadextra: not live goroutines
			continue
		default: // _Gwaiting, _Gpreempted, _Gcopystack, _Gleaked
			s.Goroutines.Waiting++
		}
		s.Goroutines.Total++
	}
	s.Sources.Goroutines = SourceSchedtrace
	return s
}
