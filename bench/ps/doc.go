// Package ps compares gdiag ps with gops v0.3.28 (github.com/google/gops,
// built from this module's tool dependency) on the processes of the host
// they run on: which Go processes each finds, what it says of them, and
// how long a listing takes. Its tests start real servers from Debian's
// packages (prometheus, prometheus-node-exporter) as processes without
// either agent, next to whatever else runs.
package ps
