package goroutines

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gdiag/gdiag/gdump"
)

// WriteText writes r as gdiag goroutines prints it: the crash report and
// the goroutine that raised it, then a summary, then each group with its
// count, state, wait times, stack and creator, then the reader's notes.
func (r Report) WriteText(w io.Writer, o Options) error {
	bw := bufio.NewWriter(w)
	if c := r.Crash; c != nil {
		writeCrash(bw, r.Source, c, o.Depth)
	}
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
		fmt.Fprintf(bw, "\n%s [%s]", plural(g.Count, "goroutine"), stateText(g.State, g.MinWait, g.MaxWait))
		if len(g.IDs) > 0 {
			fmt.Fprintf(bw, "  ids %s", ids(g.IDs, g.Count))
		}
		fmt.Fprintln(bw)
		writeStack(bw, g)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(bw)
		for _, n := range r.Notes {
			fmt.Fprintf(bw, "note: %s\n", n)
		}
	}
	return bw.Flush()
}

// writeCrash writes the crash report: the message, the panics before it,
// the runtime's notes, what the traceback level hid, and the goroutine
// that raised it with its stack, cut to depth frames as the groups are
// (0: all).
func writeCrash(w *bufio.Writer, source string, c *Crash, depth int) {
	fmt.Fprintf(w, "%s: %s\n", source, c.Message)
	if _, rest, ok := strings.Cut(fullMessage(&c.Crash), "\n"); ok {
		fmt.Fprintf(w, "    %s\n", indent(rest, "    ")) // the other lines of a value printed on several
	}
	for i, p := range c.Panics {
		last := i == len(c.Panics)-1
		if last && c.Fatal == "" {
			if p.Recovered {
				fmt.Fprintf(w, "    %s\n", recoveredText(p))
			}
			continue
		}
		fmt.Fprintf(w, "    while panicking: %s%s\n", indent(p.Value, "        "), recoveredSuffix(p))
	}
	if c.Signal != "" && !strings.HasPrefix(c.Message, c.Signal) {
		fmt.Fprintf(w, "    signal: %s\n", c.Signal)
	}
	if strings.HasPrefix(c.Signal, "SIGQUIT") {
		fmt.Fprintln(w, "    the process was sent SIGQUIT (kill -QUIT, or Ctrl-\\ in its terminal): the runtime prints every goroutine and exits")
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "    %s\n", n)
	}
	if c.Exit != "" {
		fmt.Fprintf(w, "    then: %s\n", strings.ReplaceAll(c.Exit, "\t", " "))
	}
	if c.Shown != "" {
		fmt.Fprintf(w, "traceback: %s\n", c.Shown)
	}
	g := c.Goroutine
	switch {
	case g != nil:
		verb := "raised by"
		if strings.HasPrefix(c.Signal, "SIGQUIT") {
			verb = "running when it arrived:"
		}
		where := g.Where()
		fmt.Fprintf(w, "%s goroutine %d [%s] in %s\n", verb, g.ID, stateText(g.State, g.Wait, g.Wait), where.Func)
		writeStack(w, gdump.Group{Frames: g.Frames, CreatedBy: g.CreatedBy}.Trim(depth))
		if g.ElidedFrames > 0 {
			fmt.Fprintf(w, "    (%s elided by the runtime)\n", plural(g.ElidedFrames, "frame"))
		}
	case len(c.RuntimeStack) > 0:
		fmt.Fprintln(w, "raised by the runtime, on its system stack:")
		writeStack(w, gdump.Group{Frames: c.RuntimeStack})
	case c.Level != gdump.LevelNone && !strings.HasPrefix(c.Signal, "SIGQUIT"):
		fmt.Fprintln(w, "raised by the runtime, not by a running goroutine")
	}
	fmt.Fprintln(w)
}

// fullMessage is the crash's message with every line of its value.
func fullMessage(c *gdump.Crash) string {
	switch {
	case c.Fatal != "":
		return "fatal error: " + c.Fatal
	case len(c.Panics) > 0:
		return "panic: " + c.Panics[len(c.Panics)-1].Value
	}
	return c.Signal
}

func recoveredSuffix(p gdump.Panic) string {
	switch {
	case p.Repanicked:
		return " [recovered, repanicked]"
	case p.Recovered:
		return " [recovered]"
	}
	return ""
}

func recoveredText(p gdump.Panic) string {
	if p.Repanicked {
		return "recovered by a deferred call, then panicked again with the same value"
	}
	return "recovered by a deferred call, then panicked again"
}

// indent indents the lines after the first of a value printed on several.
func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func writeFrame(w io.Writer, f gdump.Frame) {
	fmt.Fprintf(w, "    %s\n", f.Func)
	switch {
	case f.File != "":
		fmt.Fprintf(w, "        %s:%d\n", f.File, f.Line)
	case f.PC != 0:
		fmt.Fprintf(w, "        pc=%#x\n", f.PC)
	}
}

// writeStack writes a group's (trimmed) stack and its creator.
func writeStack(w io.Writer, g gdump.Group) {
	if g.InnerOmitted > 0 {
		fmt.Fprintf(w, "    ... %s inside (--depth)\n", plural(g.InnerOmitted, "frame"))
	}
	for _, f := range g.Frames {
		writeFrame(w, f)
	}
	if g.OuterOmitted > 0 {
		fmt.Fprintf(w, "    ... %s more (--depth)\n", plural(g.OuterOmitted, "frame"))
	}
	if c := g.CreatedBy; c.Func != "" {
		fmt.Fprintf(w, "    created by %s\n", c.Func)
		if c.File != "" {
			fmt.Fprintf(w, "        %s:%d\n", c.File, c.Line)
		}
	}
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
		fmt.Fprintf(bw, "\n%+d (%d → %d) [%s]\n", g.Delta, g.Before, g.After, stateText(g.State, 0, g.MaxWait))
		writeStack(bw, g.Group)
	}
	return bw.Flush()
}

// stateText is the state with the wait times, as in the dump's header:
// "chan receive, 3 to 12 minutes".
func stateText(state string, minWait, maxWait time.Duration) string {
	lo, hi := int(minWait/time.Minute), int(maxWait/time.Minute)
	switch {
	case hi == 0:
		return state
	case lo == hi:
		return fmt.Sprintf("%s, %s", state, plural(hi, "minute"))
	case lo == 0:
		return fmt.Sprintf("%s, up to %s", state, plural(hi, "minute"))
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
