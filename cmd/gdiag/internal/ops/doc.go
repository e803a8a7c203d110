// Package ops holds the gdiag commands that read or change a process's
// memory settings through its agent, as gops does: memstats, gc, setgc
// and memlimit. The changes are agent operations, offered only on the
// agent's owner-only socket or its token TCP listener, each logged by the
// agent with who asked.
package ops
