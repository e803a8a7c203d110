// Package e2etest holds the helpers that gdiag's end-to-end tests share:
// finding the module root and the real servers, building the programs
// under test with the race detector, running processes in their own
// process group with their output kept, and waiting on readiness signals
// (a line printed, a port open, an HTTP endpoint ready) instead of sleeping.
//
// It is imported only by _test.go files. A missing prerequisite (a
// server binary, tmux, root) goes through Unavailable: the test fails
// when GDIAG_E2E=1, as scripts/test sets it, and skips with the reason
// otherwise, so that CI never meets a silent skip.
//
// Every function is safe to call from parallel tests. Processes started
// with StartT are stopped when the test ends; those started with Start
// belong to the caller, who must call Stop.
package e2etest
