// Package heldout holds incident programs written apart from
// examples/incidents, to check that gdiag doctor's rules are general: no
// shared harness, other code paths, libraries, rates and GOMAXPROCS. Each
// is a plain net/http service that drives its own loopback load and prints
// "heldout: NAME pid PID ready URL" when up; some run the gdiag agent,
// some only net/http/pprof. scripts/doctor-heldout runs gdiag doctor on
// each and prints the verdicts; the README lists the last results.
package heldout
