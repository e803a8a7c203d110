// Package attack is gdiag's fault-injection and hostile-input suite, as
// tests: hostile files fed to the gdiag command (gzip bombs, concatenated
// gzip members, endless stdin, garbage, huge lines, a flood of goroutine
// headers) must end in a clear error, never a crash or a hang, with the
// process under 512 MB of RSS. The agent's share of the suite (5,000
// unauthenticated connections, another user's planted runtime
// directory, another user's operations, census limits) lives in package
// probes, the pool storm in package pool; scripts/attack runs them all
// at full size and prints the figures the README quotes.
//
// By default the inputs are small enough for CI (tens of megabytes);
// GDIAG_ATTACK=full makes them the sizes the README quotes (1 GB of
// garbage, a 1 GiB gzip bomb, 30 s of endless stdin).
package attack
