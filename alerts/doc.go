// Package alerts holds gdiag's Prometheus alert rules, their promtool unit
// tests and the runbook the alerts link to.
//
// # The rules
//
// gdiag.rules.yml is a Prometheus rules file with two groups over the
// series of exporters/prometheus (the gdiag_* metrics of the schedstats
// catalogue):
//
//   - gdiag-runtime: GdiagGoroutineLeak (steady goroutine growth),
//     GdiagRunqueueBacklog (runnable goroutines per P), GdiagSchedLatencyHigh
//     (p99 scheduling latency), GdiagThreadGrowth (OS threads), GdiagLongSTWPause
//     (recurring stop-the-world pauses over 50ms) and GdiagGCOverhead (the
//     GC's share of the CPU time the process used).
//   - gdiag-pool: GdiagPoolQueueNearFull, GdiagPoolWorkersSaturated,
//     GdiagPoolRejections and GdiagPoolTaskPanics, labelled by pool.
//
// Each alert has a severity label (warning or critical), summary and
// description annotations that quote the measured figure, and a runbook_url
// pointing at its section of RUNBOOK.md, which says which gdiag command to
// run first. The thresholds follow the defaults of the schedstats
// detectors where one exists.
//
// No rule fires on one sample. Each has a for: longer than a range its
// expression averages over, or asks for growth that goes on, for events
// that recur, or for a count of several events; the runbook gives each
// rule's reason under "Not on a blip", and the promtool tests show each
// rule's blip (a spike, a burst, a step, a single event) not firing.
//
// GC CPU: GdiagGCOverhead reads the runtime's own CPU accounting,
// /cpu/classes/gc/total:cpu-seconds and its idle-marking part over
// /cpu/classes/total:cpu-seconds less idle time, which client_golang's Go
// collector exports as go_cpu_classes_* when exporters/prometheus registers
// it (Options.GoCollector).
//
// # Loading them
//
// Copy gdiag.rules.yml next to prometheus.yml and list it:
//
//	rule_files:
//	  - gdiag.rules.yml
//
// or write the embedded copy from a program with [Rules]. [Scale] divides
// every duration of a rules file, so that tests and demonstrations see in
// seconds what the rules do in minutes.
//
// # Running the tests
//
//	promtool check rules alerts/gdiag.rules.yml
//	promtool test rules alerts/gdiag.rules_test.yml
//	go test -race ./alerts/
//	GDIAG_E2E=1 go test -race -run Alerts ./internal/e2e/
//
// The Go tests run both promtool commands (they skip, saying why, when
// promtool is missing, and fail when GDIAG_E2E=1), check every rule's
// labels, annotations and runbook anchor, check that each alert is tested
// both firing and not firing, and check every metric the rules name
// against the schedstats catalogue and a live scrape of the exporter. The
// end-to-end test loads Scale(Rules(), 60) into a real Prometheus scraping
// examples/demo and waits for GdiagGoroutineLeak to fire during the demo's
// leak incident, after a healthy run that fires nothing.
//
// # Concurrency, cost and stability
//
// [Rules] and [Scale] are safe for concurrent use; Scale is a few regular
// expression passes over its input. The alert names, their labels and the
// runbook anchors are stable; thresholds and durations may be tuned
// between releases.
package alerts
