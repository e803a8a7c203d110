package ps

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// maxListen is how many listening addresses the LISTEN column shows.
const maxListen = 3

func print(env *cli.Env, rows []Row) error {
	if len(rows) == 0 {
		fmt.Fprintln(env.Stdout, "no Go processes found")
		return nil
	}
	tw := env.Table()
	fmt.Fprintln(tw, "PID\tNAME\tGO\tCPU%\tRSS\tTHREADS\tAGE\tLISTEN\tAGENT\tMODULE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.PID, r.Name, dash(r.GoVersion), cpu(r), bytesLabel(r.RSSBytes), r.Threads,
			ageLabel(time.Duration(r.AgeSeconds*float64(time.Second))), listenColumn(r.Listen), agentColumn(r), r.ModuleLabel())
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cpu(r Row) string {
	return strconv.FormatFloat(r.CPUPercent, 'f', 1, 64)
}

func listenColumn(l []string) string {
	switch {
	case len(l) == 0:
		return "-"
	case len(l) > maxListen:
		return strings.Join(l[:maxListen], ",") + fmt.Sprintf(",+%d", len(l)-maxListen)
	}
	return strings.Join(l, ",")
}

func agentColumn(r Row) string {
	switch {
	case r.Socket != "":
		return r.Socket
	case r.TCPAddr != "":
		return "tcp " + r.TCPAddr
	case r.PprofURL != "":
		return "pprof " + r.PprofURL
	}
	return "-"
}

// bytesLabel writes n bytes in KB, MB or GB (powers of 1024), three
// significant digits or so.
func bytesLabel(n int64) string {
	const k = 1024
	switch {
	case n <= 0:
		return "-"
	case n < k*k:
		return fmt.Sprintf("%.0fKB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1fMB", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.2fGB", float64(n)/(k*k*k))
}

// ageLabel writes an age in its two largest units: 45s, 21m10s, 3h02m, 5d04h.
func ageLabel(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case d <= 0:
		return "-"
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// printTree writes the rows as a tree: each under its nearest ancestor
// among the rows, and those with none under their parent's line, as gops
// tree draws them.
func printTree(env *cli.Env, rows []Row) error {
	if len(rows) == 0 {
		fmt.Fprintln(env.Stdout, "no Go processes found")
		return nil
	}
	byPID := map[int]*Row{}
	for i := range rows {
		byPID[rows[i].PID] = &rows[i]
	}
	children := map[int][]int{} // a row, or a root line's PID → rows
	for _, r := range rows {
		p := treeParent(r, byPID)
		children[p] = append(children[p], r.PID)
	}
	var roots []int
	for p := range children {
		if byPID[p] == nil {
			roots = append(roots, p)
		}
	}
	sort.Ints(roots)
	for _, root := range roots {
		fmt.Fprintln(env.Stdout, outsider(root))
		walk(env.Stdout, children, byPID, root, "")
	}
	return nil
}

// treeParent is r's parent in the tree: its nearest ancestor among the
// rows, else its parent, which then heads a root line.
func treeParent(r Row, byPID map[int]*Row) int {
	pid := r.PPID
	for range 64 { // deeper than any real process tree
		if pid <= 1 || byPID[pid] != nil {
			break
		}
		u, err := readUsage(pid)
		if err != nil {
			break
		}
		pid = u.PPID
	}
	if byPID[pid] != nil {
		return pid
	}
	return r.PPID
}

func walk(w io.Writer, children map[int][]int, byPID map[int]*Row, pid int, indent string) {
	kids := children[pid]
	sort.Ints(kids)
	for i, k := range kids {
		branch, next := "├── ", "│   "
		if i == len(kids)-1 {
			branch, next = "└── ", "    "
		}
		r := byPID[k]
		fmt.Fprintf(w, "%s%s%d %s  %s", indent, branch, r.PID, r.Name, dash(r.GoVersion))
		switch a := agentColumn(*r); {
		case r.Agent:
			fmt.Fprintf(w, "  agent %s", a)
		case a != "-":
			fmt.Fprintf(w, "  %s", a)
		}
		fmt.Fprintln(w)
		walk(w, children, byPID, k, indent+next)
	}
}

// outsider names a root: a process that is not in the list (not Go, or
// not visible), by PID and name.
func outsider(pid int) string {
	if pid == 0 {
		return "0 (kernel)"
	}
	if p, err := target.Inspect(pid); err == nil {
		return fmt.Sprintf("%d (%s)", pid, p.Name)
	}
	return strconv.Itoa(pid)
}
