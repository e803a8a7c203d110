// Package goroutines implements "gdiag goroutines": the goroutines of a
// live process or of a saved dump (debug=2, panic or SIGQUIT output),
// grouped by identical state, stack and creator, with filters, and
// "--diff", which compares two dumps and lists the groups that grew.
//
// NewReport and NewDiff build the values printed as text (WriteText) or
// as JSON (their json tags are the documented --json schema). Analyze is
// the entry point for gdiag analyze on a saved dump. Grouping costs one
// pass over the goroutines (see gdump and bench/dump for the
// figures on 100,000 goroutines); nothing here keeps state, so the
// functions are safe to call concurrently.
package goroutines
