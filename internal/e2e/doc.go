// Package e2e holds end-to-end tests that run gdiag's exporters against real
// servers: Prometheus from Debian's packages, an OpenTelemetry Collector and
// a Pyroscope server built from the tools/ modules, all on loopback, each
// watching the demo service (examples/demo, built with -race).
//
// The tests run when GDIAG_E2E=1 (scripts/test sets it, after scripts/setup
// has installed or built the servers into GDIAG_TOOLS). With GDIAG_E2E=1 a
// missing server fails the test; without it the tests skip and say why.
// The helpers they share with cmd/gdiag's tests are in internal/e2etest.
package e2e
