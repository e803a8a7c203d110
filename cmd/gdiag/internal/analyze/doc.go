// Package analyze implements "gdiag analyze FILE": it recognises a saved
// diagnostics file by its content (a goroutine dump, GODEBUG=schedtrace
// output, a pprof profile or an execution trace) and hands it to the
// analysis for that kind. Schedtrace logs are summarised here; the other
// kinds are analysed by the packages of the matching live commands.
package analyze
