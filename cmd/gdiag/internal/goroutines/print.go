package goroutines

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText writes r as gdiag goroutines prints it: a summary, then each
// group with its count, state, wait times, stack and creator.
func (r Report) WriteText(w io.Writer, o Options) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s: %s in %s", r.Source, plural(r.TotalGoroutines, "goroutine"), plural(r.TotalGroups, "group"))
	for i, s := range r.ByState {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(bw, "%s%d %s", sep, s.Count, s.State)
	}
	fmt.Fprintln(bw)
	if f := describe(o); f != "" || len(r.Groups) < r.MatchedGroups {
		fmt.Fprintf(bw, "showing %d of %s (%s)%s\n", len(r.Groups), plural(r.MatchedGroups, "group"),
			plural(r.MatchedGoroutines, "goroutine"), f)
	}
	if r.MatchedGroups == 0 && r.TotalGoroutines > 0 {
		fmt.Fprintln(bw, "no goroutine matches the filters")
	}
	for _, g := range r.Groups {
		fmt.Fprintf(bw, "\n%s [%s]", plural(g.Count, "goroutine"), stateText(g.State, g.MinWaitSeconds, g.MaxWaitSeconds))
		if len(g.IDs) > 0 {
			fmt.Fprintf(bw, "  ids %s", ids(g.IDs, g.Count))
		}
		fmt.Fprintln(bw)
		writeStack(bw, g.Stack)
	}
	return bw.Flush()
}

// WriteText writes d as gdiag goroutines --diff prints it.
func (d Diff) WriteText(w io.Writer, o Options) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s → %s: %d → %d goroutines (%+d)%s\n", d.Before, d.After,
		d.BeforeGoroutines, d.AfterGoroutines, d.AfterGoroutines-d.BeforeGoroutines, describe(o))
	switch {
	case d.Grown == 0:
		fmt.Fprintf(bw, "no group grew by %d or more; %s shrank or vanished\n", d.Grow, plural(d.Shrunk, "group"))
	default:
		fmt.Fprintf(bw, "%s grew by %d or more (showing %d); %s shrank or vanished\n",
			plural(d.Grown, "group"), d.Grow, len(d.Groups), plural(d.Shrunk, "group"))
	}
	for _, g := range d.Groups {
		fmt.Fprintf(bw, "\n%+d (%d → %d) [%s]\n", g.Delta, g.Before, g.After, stateText(g.State, 0, g.MaxWaitSeconds))
		writeStack(bw, g.Stack)
	}
	return bw.Flush()
}

func writeStack(w io.Writer, s Stack) {
	for _, f := range s.Frames {
		fmt.Fprintf(w, "    %s\n        %s:%d\n", f.Func, f.File, f.Line)
	}
	if s.FramesOmitted > 0 {
		fmt.Fprintf(w, "    ... %s more (--depth)\n", plural(s.FramesOmitted, "frame"))
	}
	if c := s.CreatedBy; c != nil {
		fmt.Fprintf(w, "    created by %s\n        %s:%d\n", c.Func, c.File, c.Line)
	}
}

// stateText is the state with the wait times, as in the dump's header:
// "chan receive, 3 to 12 minutes".
func stateText(state string, minSec, maxSec int64) string {
	lo, hi := minSec/60, maxSec/60
	switch {
	case hi == 0:
		return state
	case lo == hi:
		return fmt.Sprintf("%s, %s", state, plural(int(hi), "minute"))
	case lo == 0:
		return fmt.Sprintf("%s, up to %d minutes", state, hi)
	}
	return fmt.Sprintf("%s, %d to %d minutes", state, lo, hi)
}

// describe lists the filters of o for the summary line.
func describe(o Options) string {
	var f []string
	if o.State != "" {
		f = append(f, fmt.Sprintf("--state %q", o.State))
	}
	if o.Pkg != "" {
		f = append(f, "--pkg "+o.Pkg)
	}
	if o.MinWait > 0 {
		f = append(f, "--min-wait "+o.MinWait.String())
	}
	if len(f) == 0 {
		return ""
	}
	return " matching " + strings.Join(f, " ")
}

func ids(ids []uint64, count int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	out := strings.Join(s, " ")
	if count > len(ids) {
		out += " ..."
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
